// The broken-dependency report as HTML pages (no build step, the dashboard's style.css): the
// list of reports, and one report with what changed on top, grouped by source package and by
// owner. Every string from a report is escaped: dependency strings come from RPM headers anyone
// can write (a `Provides: <script>` is a valid capability).
import type { BrokenDepsDiff, BrokenDepsReport, BrokenRow } from "../domain/brokenDeps.js";
import { ownersOf, sourcesByOwner, type PackageAcls } from "../domain/owners.js";
import { brokenDepsReportPath } from "../domain/reportLinks.js";
import type { BrokenDepsReportRecord, BrokenDepsReportSummary } from "../store/brokenDepsReportRepository.js";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text safe in HTML content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** A fragment: only `html` values are inserted raw; everything else is escaped. */
class Html {
  constructor(readonly text: string) {}
}

type Part = Html | string | number | null | undefined | false | readonly Part[];

function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

function render(v: Part): string {
  if (v === null || v === undefined || v === false) return "";
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join("");
  return escapeHtml(typeof v === "number" ? String(v) : (v as string));
}

const API_PATH = "/api/v1/reports/broken-deps";

function page(title: string, body: Html): string {
  return `<!doctype html>${
    html`<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>${title} · relengd</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/assets/style.css">
</head>
<body>
  <a class="skip-link" href="#main">Skip to content</a>
  <header class="site-header">
    <a class="brand" href="/#/">relengd</a>
    <nav aria-label="Main">
      <ul>
        <li><a href="/#/">Overview</a></li>
        <li><a href="/#/artifacts">Artifacts</a></li>
        <li><a href="/#/releases">Releases</a></li>
        <li><a href="/#/requests">Requests</a></li>
        <li><a href="/#/environments">Environments</a></li>
        <li><a href="/#/events">Event log</a></li>
        <li><a href="/#/shadow">Shadow</a></li>
        <li><a href="/reports/broken-deps" aria-current="page">Broken deps</a></li>
      </ul>
    </nav>
  </header>
  <main id="main" tabindex="-1">
${body}
  </main>
  <footer class="site-footer">
    <p>Read-only view of relengd. The same reports are JSON under <code>${API_PATH}</code>.</p>
  </footer>
</body>
</html>
`.text
  }`;
}

function statusBadge(status: string): Html {
  const tone = status === "ok" ? "tone-ok" : status === "broken" ? "tone-bad" : "tone-warn";
  return html`<span class="badge ${tone}">${status}</span>`;
}

/** The list of reports, newest first; `next` is the next page's link. */
export function renderReportListPage(items: readonly BrokenDepsReportSummary[], options: { tree?: string; next?: string }): string {
  const rows = items.map(
    (r) => html`<tr class="${r.status === "broken" ? "row-bad" : r.status === "ok" ? "row-ok" : ""}">
      <td><a href="${brokenDepsReportPath(r.id)}"><code>${r.id}</code></a></td>
      <td><a href="/reports/broken-deps?tree=${encodeURIComponent(r.tree)}">${r.tree}</a></td>
      <td>${r.generatedAt.toISOString()}</td>
      <td>${statusBadge(r.status)}</td>
      <td>${r.packages}</td><td>${r.dependencies}</td><td>${r.sources}</td>
      <td>${r.arches.join(" ")}</td>
      <td>${r.origin}</td>
    </tr>`,
  );
  const body = html`<div class="page-head"><h1>Broken dependencies${options.tree ? html` in ${options.tree}` : ""}</h1></div>
<p class="muted">Each report is one run of <code>dnf repoclosure</code> over a tree's repositories (by a report policy, or by the gate before a compose).</p>
${
  items.length === 0
    ? html`<p class="empty">No reports yet.</p>`
    : html`<div class="table-wrap"><table>
  <thead><tr><th scope="col">Report</th><th scope="col">Tree</th><th scope="col">Generated</th><th scope="col">Status</th><th scope="col">Packages</th><th scope="col">Dependencies</th><th scope="col">Sources</th><th scope="col">Arches</th><th scope="col">By</th></tr></thead>
  <tbody>${rows}</tbody>
</table></div>`
}
${options.next ? html`<p class="pager"><a class="button secondary" href="${options.next}">Older reports</a></p>` : ""}`;
  return page(options.tree ? `Broken dependencies in ${options.tree}` : "Broken dependencies", body);
}

const sourceAnchor = (source: string) => `src-${source.replace(/[^A-Za-z0-9._-]/g, "_")}`;

function depsList(deps: readonly string[]): Html {
  return html`<ul class="small">${deps.map((d) => html`<li><code>${d}</code></li>`)}</ul>`;
}

function diffTable(caption: string, rows: readonly BrokenRow[]): Html {
  if (rows.length === 0) return html`<h3>${caption}</h3><p class="empty">None.</p>`;
  return html`<h3>${caption}</h3><div class="table-wrap"><table>
  <thead><tr><th scope="col">Arch</th><th scope="col">Source</th><th scope="col">Package</th><th scope="col">Dependencies</th></tr></thead>
  <tbody>${rows.map(
    (r) => html`<tr><td>${r.arch}</td><td><a href="#${sourceAnchor(r.source)}">${r.source}</a></td><td><code>${r.nevra}</code></td><td>${depsList(r.unresolved)}</td></tr>`,
  )}</tbody>
</table></div>`;
}

/** One report: what changed, then by source package, then by owner. */
export function renderReportPage(record: BrokenDepsReportRecord, diff: (BrokenDepsDiff & { previous: string | null }) | null, owners: PackageAcls | undefined): string {
  const head = html`<p class="crumbs"><a href="/reports/broken-deps">Broken dependencies</a> › <a href="/reports/broken-deps?tree=${encodeURIComponent(record.tree)}">${record.tree}</a></p>
<div class="page-head"><h1>Broken dependencies in ${record.tree}</h1></div>
<dl class="details">
  <div><dt>Status</dt><dd>${statusBadge(record.status)}</dd></div>
  <div><dt>Generated</dt><dd>${record.generatedAt.toISOString()}</dd></div>
  <div><dt>By</dt><dd>${record.origin}</dd></div>
  <div><dt>Arches</dt><dd>${record.arches.join(" ")}</dd></div>
  <div><dt>Counts</dt><dd>${record.dependencies} unresolved dependencies in ${record.packages} packages from ${record.sources} source packages</dd></div>
  <div><dt>JSON</dt><dd><a href="${API_PATH}/${encodeURIComponent(record.id)}">${API_PATH}/${record.id}</a></dd></div>
</dl>`;
  const report = record.report;
  if (!report) {
    return page(
      `Broken dependencies in ${record.tree}`,
      html`${head}<div class="alert" role="alert"><h2>The check could not run</h2><pre class="message">${record.error ?? "unknown error"}</pre><p>A repository that cannot be read is never a pass.</p></div>`,
    );
  }
  const changes = diff
    ? html`<section><h2>Since the previous report</h2>
<p class="muted">${diff.previous ? html`Against <a href="${brokenDepsReportPath(diff.previous)}"><code>${diff.previous}</code></a>.` : "There is no earlier report of this tree: everything broken is new."}</p>
${diffTable("Newly broken", diff.newlyBroken)}
${diffTable("Fixed", diff.fixed)}</section>`
    : "";
  // Source → its rows over every arch, in the report's order.
  const bySource = new Map<string, { arch: string; nevra: string; unresolved: string[]; blame: string[] }[]>();
  for (const [arch, rows] of Object.entries(report.arches)) for (const r of rows) bySource.set(r.source, [...(bySource.get(r.source) ?? []), { arch, ...r }]);
  const sources = [...bySource.keys()].sort();
  const sourceSections = sources.map((source) => {
    const rows = bySource.get(source) ?? [];
    const own = ownersOf(owners, source);
    return html`<section id="${sourceAnchor(source)}"><h3>[${source}]</h3>
<p class="small">Owners: ${own.length > 0 ? own.join(", ") : html`<span class="muted">not known</span>`}</p>
<div class="table-wrap"><table>
  <thead><tr><th scope="col">Arch</th><th scope="col">Package</th><th scope="col">Requires</th><th scope="col">Blame</th></tr></thead>
  <tbody>${rows.map(
    (r) =>
      html`<tr><td>${r.arch}</td><td><code>${r.nevra}</code></td><td>${depsList(r.unresolved)}</td><td>${
        r.blame.length > 0 ? r.blame.map((b, i) => html`${i > 0 ? ", " : ""}<a href="#${sourceAnchor(b)}">${b}</a>`) : html`<span class="muted">—</span>`
      }</td></tr>`,
  )}</tbody>
</table></div></section>`;
  });
  const ownerRows = sourcesByOwner(owners, sources).map(
    (g) => html`<tr><th scope="row">${g.owner ?? html`<span class="muted">no owner known</span>`}</th><td>${g.sources.map((s, i) => html`${i > 0 ? ", " : ""}<a href="#${sourceAnchor(s)}">${s}</a>`)}</td></tr>`,
  );
  const body = html`${head}
${changes}
<section><h2>By source package</h2>${sources.length === 0 ? html`<p class="empty">No broken dependencies.</p>` : sourceSections}</section>
${sources.length > 0 ? html`<section><h2>By owner</h2><div class="table-wrap"><table><thead><tr><th scope="col">Owner</th><th scope="col">Source packages</th></tr></thead><tbody>${ownerRows}</tbody></table></div></section>` : ""}`;
  return page(`Broken dependencies in ${record.tree}`, body);
}

/** The report's JSON form on the API: the report format itself, with the record's id, status and the diff. */
export type ReportView = BrokenDepsReport & { id: string; status: "ok" | "broken" | "error"; error: string | null; diff: (BrokenDepsDiff & { previous: string | null }) | null };

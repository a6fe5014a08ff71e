// Artifacts: search by package, NVR, release or source commit (server-side, paginated); one artifact in full.
import { details, externalLink, h, table } from "../dom.js";
import { mono, outcome, shortSha, status, time } from "../format.js";

const PAGE = 50;
const FIELDS = [
  { name: "package", label: "Package", hint: "e.g. python-requests", pattern: "[A-Za-z0-9_][A-Za-z0-9._+\\-]*" },
  { name: "nvr", label: "NVR", hint: "e.g. python-requests-2.32.3-1.fc41" },
  { name: "release", label: "Release", hint: "e.g. rawhide, f41", pattern: "[a-z0-9][a-z0-9._\\-]*" },
  { name: "sha", label: "Source commit", hint: "the full sha CI pushed", pattern: "[0-9a-f]{7,64}" },
];

function searchForm(ctx) {
  const onsubmit = (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const query = Object.fromEntries(FIELDS.map((f) => [f.name, String(form.get(f.name) ?? "").trim()]));
    location.hash = ctx.link("/artifacts", query);
  };
  return h(
    "form",
    { role: "search", "aria-label": "Search artifacts", class: "filters", onsubmit },
    FIELDS.map((f) =>
      h(
        "div",
        { class: "field" },
        h("label", { for: `q-${f.name}` }, f.label),
        h("input", {
          id: `q-${f.name}`,
          name: f.name,
          type: "search",
          value: ctx.query.get(f.name) ?? "",
          pattern: f.pattern ?? null,
          autocomplete: "off",
          spellcheck: "false",
          "aria-describedby": `q-${f.name}-hint`,
        }),
        h("span", { id: `q-${f.name}-hint`, class: "hint" }, f.hint),
      ),
    ),
    h("div", { class: "field actions" }, h("button", { type: "submit" }, "Search"), h("a", { href: "#/artifacts", class: "button secondary" }, "Clear")),
  );
}

function ciSummary(a) {
  const results = [...a.items.filter((i) => i.kind === "ci-result"), ...a.results];
  if (results.length === 0) return h("span", { class: "muted" }, "no results");
  const passed = results.filter((r) => r.outcome === "PASSED").length;
  const failed = results.filter((r) => r.outcome === "FAILED" || r.outcome === "ERROR").length;
  return h(
    "span",
    {},
    h("span", { class: "badge tone-ok" }, `${passed} passed`),
    failed > 0 ? [" ", h("span", { class: "badge tone-bad" }, `${failed} failed`)] : null,
    results.length - passed - failed > 0 ? [" ", h("span", { class: "badge tone-muted" }, `${results.length - passed - failed} other`)] : null,
  );
}

const nvrsOf = (a) => a.items.filter((i) => i.kind === "koji-build").map((i) => i.nvr);

export async function renderArtifacts(ctx) {
  ctx.setTitle("Artifacts");
  const q = Object.fromEntries(FIELDS.map((f) => [f.name, ctx.query.get(f.name) ?? ""]));
  const cursor = ctx.query.get("cursor") ?? "";
  const page = await ctx.api("/api/v1/artifacts", { ...q, cursor, limit: PAGE });
  const filtered = Object.values(q).some(Boolean);
  return h(
    "div",
    {},
    h("h1", { tabindex: "-1" }, "Artifacts"),
    searchForm(ctx),
    h("h2", { id: "results-heading" }, filtered ? "Matching artifacts" : "Newest artifacts", cursor ? " (next page)" : ""),
    h("p", { class: "muted", role: "status" }, `${page.items.length} shown${page.nextCursor ? ", more on the next page" : ""}.`),
    table(
      "Artifacts",
      [
        { title: "Artifact", cell: (a) => h("a", { href: `#/artifacts/${encodeURIComponent(a.id)}` }, a.id) },
        { title: "Package", cell: (a) => a.package },
        { title: "Release", cell: (a) => a.release },
        { title: "Builds", cell: (a) => nvrsOf(a).map((n, i) => [i > 0 ? h("br") : null, mono(n)]) },
        { title: "CI", cell: ciSummary },
        { title: "Source", cell: (a) => [shortSha(a.source.sha), " ", h("span", { class: "muted" }, a.source.event)] },
        { title: "Pushed", cell: (a) => time(a.createdAt) },
      ],
      page.items,
      { empty: filtered ? "No artifact matches this search." : "No artifact has been pushed yet." },
    ),
    pager(ctx, "/artifacts", q, cursor, page.nextCursor),
  );
}

/** Keyset pages go forward; the first page is one link away and the browser's Back goes back. */
export function pager(ctx, path, query, cursor, nextCursor) {
  if (!cursor && !nextCursor) return null;
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    cursor ? h("a", { href: ctx.link(path, query) }, "First page") : null,
    nextCursor ? h("a", { href: ctx.link(path, { ...query, cursor: nextCursor }), rel: "next" }, "Next page") : null,
  );
}

function itemsSections(a) {
  const builds = a.items.filter((i) => i.kind === "koji-build");
  const composes = a.items.filter((i) => i.kind === "compose");
  const links = a.items.filter((i) => i.kind === "link");
  // Results pushed with the artifact, then those appended later (by CI or the bus).
  // A result's own time (submittedAt) orders it, where it tells one; else when it arrived.
  const results = [
    ...a.items.filter((i) => i.kind === "ci-result").map((r) => ({ ...r, when: r.submittedAt ?? a.createdAt, origin: "pushed" })),
    ...a.results.map((r) => ({ ...r, when: r.submittedAt ?? r.updatedAt, origin: "appended" })),
  ];
  return [
    h(
      "section",
      {},
      h("h2", { id: "builds-heading" }, "Koji builds"),
      table(
        "Koji builds",
        [
          { title: "NVR", cell: (b) => mono(b.nvr) },
          { title: "Build", cell: (b) => (b.buildId ? externalLink(`https://koji.fedoraproject.org/koji/buildinfo?buildID=${b.buildId}`, String(b.buildId)) : "—") },
          { title: "Task", cell: (b) => (b.taskId ? externalLink(`https://koji.fedoraproject.org/koji/taskinfo?taskID=${b.taskId}`, String(b.taskId)) : "—") },
          { title: "Target", cell: (b) => b.target ?? "—" },
          { title: "Side tag", cell: (b) => b.sideTag ?? "—" },
          { title: "Owner", cell: (b) => b.owner ?? "—" },
        ],
        builds,
        { empty: "No Koji build in this artifact." },
      ),
    ),
    h(
      "section",
      {},
      h("h2", { id: "results-heading" }, "CI results"),
      table(
        "CI results",
        [
          { title: "Test case", cell: (r) => mono(r.testcase) },
          { title: "Outcome", cell: (r) => outcome(r.outcome) },
          { title: "Scenario", cell: (r) => r.scenario ?? "—" },
          { title: "Note", cell: (r) => r.note ?? "—" },
          { title: "Details", cell: (r) => (r.refUrl ? externalLink(r.refUrl, "results") : "—") },
          { title: "Reported", cell: (r) => [time(r.when), " ", h("span", { class: "muted" }, r.origin)] },
        ],
        results,
        { empty: "No CI result yet.", rowClass: (r) => (r.outcome === "FAILED" || r.outcome === "ERROR" ? "row-bad" : r.outcome === "PASSED" ? "row-ok" : null) },
      ),
    ),
    composes.length > 0
      ? h(
          "section",
          {},
          h("h2", { id: "composes-heading" }, "Composes"),
          table(
            "Composes",
            [
              { title: "Compose", cell: (c) => mono(c.composeId) },
              { title: "Status", cell: (c) => c.status },
              { title: "Type", cell: (c) => c.type ?? "—" },
              { title: "Label", cell: (c) => c.label ?? "—" },
            ],
            composes,
          ),
        )
      : null,
    links.length > 0
      ? h("section", {}, h("h2", { id: "links-heading" }, "Links"), h("ul", {}, links.map((l) => h("li", {}, externalLink(l.url, l.name)))))
      : null,
  ];
}

/** Waivers of the artifact (made on it, or WaiverDB's of its builds): which stand, who waived and why. */
function waiversSection(waivers) {
  const state = (w) => (!w.waived ? "revocation" : w.inForce ? "in force" : "revoked or superseded");
  return h(
    "section",
    { "aria-labelledby": "waivers-heading" },
    h("h2", { id: "waivers-heading" }, "Waivers"),
    table(
      "Waivers of this artifact",
      [
        { title: "Test case", cell: (w) => [mono(w.testcase), w.scenario ? [" ", h("span", { class: "muted" }, w.scenario)] : null] },
        { title: "State", cell: (w) => h("span", { class: `badge tone-${w.inForce ? "ok" : "muted"}` }, state(w)) },
        { title: "Waived by", cell: (w) => `${w.username} (${w.source === "waiverdb" ? "WaiverDB" : "relengd"})` },
        { title: "Comment", cell: (w) => w.comment },
        { title: "Applies to", cell: (w) => [w.nvr ? mono(w.nvr) : "this artifact", w.environments ? [" ", h("span", { class: "muted" }, `releases to ${w.environments.join(", ")}`)] : null] },
        { title: "When", cell: (w) => time(w.waivedAt) },
      ],
      waivers.items,
      { empty: "No waiver: every gating result counts as reported." },
    ),
  );
}

export async function renderArtifact(ctx) {
  const id = ctx.params[0];
  ctx.setTitle(`Artifact ${id}`);
  const enc = encodeURIComponent(id);
  const [a, decisions, waivers, releases] = await Promise.all([
    ctx.api(`/api/v1/artifacts/${enc}`),
    ctx.api(`/api/v1/artifacts/${enc}/decisions`),
    ctx.api(`/api/v1/artifacts/${enc}/waivers`),
    ctx.api("/api/v1/releases", { artifactId: id, limit: 100 }),
  ]);
  const s = a.source;
  const context = Object.entries(a.context ?? {});
  return h(
    "div",
    {},
    h("p", { class: "crumbs" }, h("a", { href: "#/artifacts" }, "Artifacts"), " / ", a.package),
    h("h1", { tabindex: "-1" }, "Artifact ", h("code", {}, a.id)),
    details([
      ["Package", h("a", { href: ctx.link("/artifacts", { package: a.package }) }, a.package)],
      ["Release", a.release],
      ["Source", externalLink(s.url ?? s.repo, s.repo)],
      ["Commit", mono(s.sha)],
      ["Branch", s.branch],
      ["Event", s.event],
      ["Pull request", s.pr !== undefined ? String(s.pr) : null],
      ["Author", s.author],
      ["Message", s.message ? h("pre", { class: "message" }, s.message) : null],
      ["Pushed", time(a.createdAt)],
      ["Digest", mono(a.digest)],
    ]),
    itemsSections(a),
    waiversSection(waivers),
    h(
      "section",
      {},
      h("h2", { id: "decisions-heading" }, "Policy decisions"),
      table(
        "Policy decisions",
        [
          { title: "Policy", cell: (d) => mono(d.policy) },
          { title: "On", cell: (d) => d.event },
          { title: "Decision", cell: (d) => h("span", { class: `badge tone-${d.fired ? "ok" : d.waiting ? "info" : "muted"}` }, d.fired ? "fired" : d.waiting ? "waiting" : "skipped") },
          { title: "Reason", cell: (d) => d.reason ?? "—" },
          { title: "Release", cell: (d) => (d.releaseId ? h("a", { href: `#/releases/${d.releaseId}` }, "release") : "—") },
          { title: "When", cell: (d) => time(d.createdAt) },
        ],
        decisions.items,
        { empty: "No policy has evaluated this artifact." },
      ),
    ),
    h(
      "section",
      {},
      h("h2", { id: "releases-heading" }, "Releases"),
      table(
        "Releases of this artifact",
        [
          { title: "Environment", cell: (r) => h("a", { href: `#/releases/${r.id}` }, r.environment) },
          { title: "Status", cell: (r) => status(r.status) },
          { title: "Trigger", cell: (r) => r.trigger },
          { title: "Commit", cell: (r) => shortSha(r.commitSha) },
          { title: "Queued", cell: (r) => time(r.createdAt) },
        ],
        releases.items,
        { empty: "This artifact has not been released." },
      ),
    ),
    context.length > 0
      ? h("section", {}, h("h2", { id: "context-heading" }, "CI context"), details(context.map(([k, v]) => [k, mono(v)])))
      : null,
  );
}

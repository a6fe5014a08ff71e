// Releases: filtered by environment, status and package (server-side, paginated); one release
// with its timeline, commit trailers and rendered document, followed live until it settles.
import { details, h, replaceContent, table } from "../dom.js";
import { mono, shortSha, status, time } from "../format.js";
import { pager } from "./artifacts.js";

const PAGE = 50;
const STATUSES = ["checking", "queued", "committed", "pushed", "failed", "superseded", "blocked"];
const SETTLED = new Set(["pushed", "failed", "superseded", "blocked"]);
const TRACK_MS = 2000;

function select(id, name, label, options, value) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("select", { id, name }, h("option", { value: "" }, "any"), options.map((o) => h("option", { value: o, selected: o === value }, o))),
  );
}

export async function renderReleases(ctx) {
  ctx.setTitle("Releases");
  const q = { environment: ctx.query.get("environment") ?? "", status: ctx.query.get("status") ?? "", package: ctx.query.get("package") ?? "" };
  const cursor = ctx.query.get("cursor") ?? "";
  const [page, envs] = await Promise.all([ctx.api("/api/v1/releases", { ...q, cursor, limit: PAGE }), ctx.api("/api/v1/environments")]);
  const onsubmit = (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    location.hash = ctx.link("/releases", { environment: form.get("environment"), status: form.get("status"), package: String(form.get("package") ?? "").trim() });
  };
  const filtered = Object.values(q).some(Boolean);
  return h(
    "div",
    {},
    h("h1", { tabindex: "-1" }, "Releases"),
    h(
      "form",
      { role: "search", "aria-label": "Filter releases", class: "filters", onsubmit },
      select("f-environment", "environment", "Environment", envs.items.map((e) => e.name), q.environment),
      select("f-status", "status", "Status", STATUSES, q.status),
      h(
        "div",
        { class: "field" },
        h("label", { for: "f-package" }, "Package"),
        h("input", { id: "f-package", name: "package", type: "search", value: q.package, autocomplete: "off", spellcheck: "false", pattern: "[A-Za-z0-9_][A-Za-z0-9._+\\-]*" }),
      ),
      h("div", { class: "field actions" }, h("button", { type: "submit" }, "Filter"), h("a", { href: "#/releases", class: "button secondary" }, "Clear")),
    ),
    h("p", { class: "muted", role: "status" }, `${page.items.length} shown${page.nextCursor ? ", more on the next page" : ""}, newest first.`),
    table(
      "Releases",
      [
        { title: "Release", cell: (r) => h("a", { href: `#/releases/${r.id}` }, mono(r.id)) },
        { title: "Package", cell: (r) => r.package },
        { title: "Environment", cell: (r) => r.environment },
        { title: "Status", cell: (r) => status(r.status) },
        { title: "Trigger", cell: (r) => r.trigger },
        { title: "Commit", cell: (r) => shortSha(r.commitSha) },
        { title: "Queued", cell: (r) => time(r.createdAt) },
        { title: "Changed", cell: (r) => time(r.updatedAt) },
      ],
      page.items,
      { empty: filtered ? "No release matches these filters." : "No release yet." },
    ),
    pager(ctx, "/releases", q, cursor, page.nextCursor),
  );
}

/**
 * What became of a release's commit, in words: a blocked, superseded or failed release was never
 * written, and says why, instead of sounding like one still on its way.
 */
function commitState(r, sha) {
  if (sha) return mono(sha);
  switch (r.status) {
    case "blocked":
      return h("span", { class: "warn-text", "data-commit-state": "blocked" }, `never written: blocked, ${r.reason ?? "no reason recorded"}`);
    case "superseded":
      return h("span", { class: "muted", "data-commit-state": "superseded" }, [`never written: superseded by `, r.supersededBy ? h("a", { href: `#/releases/${r.supersededBy}` }, r.supersededBy) : "a newer release"]);
    case "failed":
      return h("span", { class: "warn-text", "data-commit-state": "failed" }, `not written: the writer gave up after ${r.attempts} attempt${r.attempts === 1 ? "" : "s"} (see Error)`);
    case "checking":
      return h("span", { class: "muted", "data-commit-state": "checking" }, "not written yet: repoclosure runs first");
    default:
      return h("span", { class: "muted", "data-commit-state": "pending" }, "not written yet");
  }
}

function summary(r) {
  return details([
    ["Status", status(r.status)],
    ["Package", r.package],
    ["Environment", h("a", { href: `#/environments/${r.environment}` }, r.environment)],
    ["Artifact", h("a", { href: `#/artifacts/${encodeURIComponent(r.artifactId)}` }, r.artifactId)],
    ["Trigger", r.trigger],
    ["Created by", r.createdBy],
    ["Repository", [mono(r.repository), " ", h("span", { class: "muted" }, r.branch)]],
    ["Forced", r.force ? `yes: ${r.forceReason ?? ""}` : null],
    ["Bulk", r.bulk ? "written in one commit with its batch" : null],
    [r.status === "blocked" ? "Blocked because" : "Reason", r.reason],
    ["Error", r.error ? h("pre", { class: "message" }, r.error) : null],
    ["Attempts", r.attempts > 0 && r.status !== "checking" ? String(r.attempts) : null],
    ["Preflight", r.preflight ? `repoclosure, ${r.preflight.repoclosure.strictness}, ${r.preflight.repoclosure.arches.join(" ")}` : null],
    ["Repoclosure", r.repoclosureReport ? [r.repoclosure ? mono(r.repoclosure) : "", " ", h("a", { href: r.repoclosureReport }, "report")] : r.status === "checking" ? "checking…" : null],
    ["Commit", commitState(r, r.commitSha)],
  ]);
}

function timelineList(entries) {
  return h(
    "ol",
    { class: "timeline" },
    entries.map((e) => h("li", { class: `tl-${e.state}` }, h("div", { class: "tl-head" }, status(e.state), " ", time(e.at)), h("div", { class: "tl-detail" }, e.detail))),
  );
}

function commitSection(doc, release) {
  if (!doc) return h("p", { class: "muted" }, "The document could not be rendered.");
  const c = doc.commit;
  return [
    details([
      ["Commit", commitState(release, c.sha)],
      ["Subject", c.subject],
    ]),
    h("h3", { id: "trailers-heading" }, "Trailers"),
    h(
      "dl",
      { class: "trailers", "aria-labelledby": "trailers-heading" },
      c.trailers.map((t) => h("div", {}, h("dt", {}, t.name), h("dd", {}, mono(t.value)))),
    ),
    c.bulk ? h("p", { class: "muted small" }, "A bulk commit carries these lines among those of the other releases of its batch.") : null,
    c.message ? h("details", {}, h("summary", {}, "Full commit message"), h("pre", { class: "message" }, c.message)) : null,
  ];
}

export async function renderRelease(ctx) {
  const id = ctx.params[0];
  ctx.setTitle(`Release ${id}`);
  const loadDocument = () => ctx.api(`/api/v1/releases/${id}/document`).catch((err) => ({ error: err.message }));
  // The record (current state, error, commit) and its timeline, read together.
  const loadState = async () => {
    const [release, timeline] = await Promise.all([ctx.api(`/api/v1/releases/${id}`), ctx.api(`/api/v1/releases/${id}/timeline`)]);
    return { release, entries: timeline.entries };
  };
  const [first, firstDoc] = await Promise.all([loadState(), loadDocument()]);
  const summaryBox = h("div", {});
  const timelineBox = h("div", {});
  const commitBox = h("div", {});
  const documentBox = h("div", {});
  const liveLine = h("p", { class: "live" });
  const fill = (t, doc) => {
    replaceContent(summaryBox, summary(t.release));
    replaceContent(timelineBox, timelineList(t.entries));
    replaceContent(commitBox, doc.error ? h("p", { class: "alert" }, doc.error) : commitSection(doc, t.release));
    replaceContent(
      documentBox,
      doc.error ? h("p", { class: "muted" }, "Not available.") : [h("p", {}, "Path in the GitOps repository: ", mono(doc.path), " (", doc.kind, ")"), h("pre", { class: "document", tabindex: "0", "aria-label": `Document ${doc.path}` }, doc.content)],
    );
    replaceContent(
      liveLine,
      SETTLED.has(t.release.status)
        ? [`Final state: `, status(t.release.status)]
        : [h("span", { class: "live-dot", "aria-hidden": "true" }), `Following this release live, every ${TRACK_MS / 1000} s`],
    );
  };
  fill(first, firstDoc);
  let last = first.release.status;
  let lastSha = first.release.commitSha;
  if (!SETTLED.has(last)) {
    // Tracked until it settles; the document is fetched again once it has a commit.
    let currentDoc = firstDoc;
    const follow = async () => {
      let t;
      try {
        t = await loadState();
      } catch (err) {
        // What is shown stays; the next tick tries again.
        if (ctx.live) replaceContent(liveLine, h("span", { class: "warn-text" }, `Live updates interrupted: ${err.message}; retrying`));
        throw err;
      }
      if (!ctx.live) return;
      const doc = t.release.commitSha !== lastSha || SETTLED.has(t.release.status) ? await loadDocument() : null;
      if (!ctx.live) return;
      fill(t, doc ?? currentDoc);
      if (doc) currentDoc = doc;
      if (t.release.status !== last) ctx.announce(`Release ${t.release.package} to ${t.release.environment} is now ${t.release.status}`);
      last = t.release.status;
      lastSha = t.release.commitSha;
      // Settled: nothing more will change, polling stops.
      return !SETTLED.has(last);
    };
    ctx.every(TRACK_MS, follow);
  }
  return h(
    "div",
    {},
    h("p", { class: "crumbs" }, h("a", { href: "#/releases" }, "Releases"), " / ", first.release.package, " → ", first.release.environment),
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Release ", h("code", {}, id)), liveLine),
    h("div", { class: "two-col" }, h("section", {}, h("h2", { id: "summary-heading" }, "Summary"), summaryBox), h("section", {}, h("h2", { id: "timeline-heading" }, "Timeline"), timelineBox)),
    h("section", {}, h("h2", { id: "commit-heading" }, "Commit"), commitBox),
    h("section", {}, h("h2", { id: "document-heading" }, "Request document"), documentBox),
  );
}

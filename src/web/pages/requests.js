// Requests by merge request: filtered by kind, status and author; one request with its reasons, the
// approval policies' decisions condition by condition, its merge commit and its documents.
import { ApiError } from "../api.js";
import { details, h, replaceContent, table } from "../dom.js";
import { mono, shortSha, time } from "../format.js";
import { pager } from "./artifacts.js";

const PAGE = 50;
const KINDS = ["BranchRequest", "RepoRequest", "SideTag"];
const STATUSES = ["proposed", "approved", "needs-review", "denied", "merged", "superseded", "withdrawn"];
const SETTLED = new Set(["merged", "denied", "superseded", "withdrawn"]);
const TRACK_MS = 2000;

const tone = { proposed: "info", approved: "info", "needs-review": "warn", denied: "bad", merged: "ok", superseded: "muted", withdrawn: "muted" };

/** A request status as a word with a colour; the word alone carries the meaning. */
function requestStatus(value) {
  return h("span", { class: `badge tone-${tone[value] ?? "muted"}` }, value);
}

const conditionTone = { true: "ok", false: "bad", unknown: "warn" };

function conditionValue(value) {
  const word = value === "unknown" ? "unknown" : value ? "true" : "false";
  return h("span", { class: `badge tone-${conditionTone[word]}` }, word);
}

function verified(r) {
  return r.verified ? h("span", { class: "badge tone-ok" }, "verified") : h("span", { class: "badge tone-warn" }, "unverified");
}

function select(id, name, label, options, value) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("select", { id, name }, h("option", { value: "" }, "any"), options.map((o) => h("option", { value: o, selected: o === value }, o))),
  );
}

function reasonList(reasons) {
  if (reasons.length === 0) return null;
  return h(
    "ul",
    { class: "reasons" },
    reasons.map((reason) => h("li", {}, reason)),
  );
}

/** What GET /api/v1/requests/unreviewed answers; null when the server checks no branch (404). */
async function loadUnreviewed(ctx) {
  try {
    return await ctx.api("/api/v1/requests/unreviewed");
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** Proposed documents someone put on the target branch without a relengd merge, under their own heading. */
function unreviewedSection(report) {
  if (!report) return null;
  const branch = report.branch;
  const heading = h("h2", { id: "unreviewed-heading" }, `Reached ${branch} without review`);
  const where = [mono(report.repository), "#", mono(branch)];
  if (!report.checkedAt) return h("section", { "aria-labelledby": "unreviewed-heading" }, heading, h("p", { class: "muted" }, "Not checked yet: relengd looks at ", ...where, " at its next poll."));
  return h(
    "section",
    { "aria-labelledby": "unreviewed-heading" },
    heading,
    h(
      "p",
      { class: "muted" },
      "Request documents on ",
      ...where,
      " whose last change is not a merge relengd made (a push straight to the branch, a merge by hand, a copied trailer); checked at ",
      shortSha(report.head),
      ", ",
      time(report.checkedAt),
      ".",
    ),
    table(
      `Reached ${branch} without review`,
      [
        { title: "Path", cell: (u) => mono(u.path) },
        { title: "Commit", cell: (u) => (u.commit ? shortSha(u.commit) : h("span", { class: "muted" }, "not in the history")) },
        { title: "Subject", cell: (u) => u.subject ?? "" },
        { title: "Trailer names", cell: (u) => (u.requestId ? [mono(u.requestId), h("span", { class: "muted" }, " (not merged by relengd with this commit)")] : h("span", { class: "muted" }, "—")) },
      ],
      report.items,
      { empty: `Every request document on ${branch} came through a relengd merge.` },
    ),
  );
}

export async function renderRequests(ctx) {
  ctx.setTitle("Requests");
  const q = { kind: ctx.query.get("kind") ?? "", status: ctx.query.get("status") ?? "", author: ctx.query.get("author") ?? "" };
  const cursor = ctx.query.get("cursor") ?? "";
  const [page, unreviewed] = await Promise.all([ctx.api("/api/v1/requests", { ...q, cursor, limit: PAGE }), loadUnreviewed(ctx)]);
  const onsubmit = (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    location.hash = ctx.link("/requests", { kind: form.get("kind"), status: form.get("status"), author: String(form.get("author") ?? "").trim() });
  };
  const filtered = Object.values(q).some(Boolean);
  return h(
    "div",
    {},
    h("h1", { tabindex: "-1" }, "Requests"),
    h(
      "p",
      { class: "muted" },
      "Branches, new packages and side tags asked for on ",
      mono("requests/*"),
      " branches of the GitOps repository (or with ",
      mono("relengd request submit"),
      "): approved by policy and merged, or held for a releaser.",
    ),
    h(
      "form",
      { role: "search", "aria-label": "Filter requests", class: "filters", onsubmit },
      select("f-kind", "kind", "Kind", KINDS, q.kind),
      select("f-status", "status", "Status", STATUSES, q.status),
      h(
        "div",
        { class: "field" },
        h("label", { for: "f-author" }, "Author"),
        h("input", { id: "f-author", name: "author", type: "search", value: q.author, autocomplete: "off", spellcheck: "false" }),
      ),
      h("div", { class: "field actions" }, h("button", { type: "submit" }, "Filter"), h("a", { href: "#/requests", class: "button secondary" }, "Clear")),
    ),
    h("p", { class: "muted", role: "status" }, `${page.items.length} shown${page.nextCursor ? ", more on the next page" : ""}, newest first.`),
    table(
      "Requests",
      [
        { title: "Request", cell: (r) => h("a", { href: `#/requests/${r.id}` }, mono(r.id)) },
        { title: "Status", cell: (r) => requestStatus(r.status) },
        { title: "Kind", cell: (r) => r.kind },
        { title: "Path", cell: (r) => (r.path ? mono(r.path) : h("span", { class: "muted" }, "—")) },
        { title: "Author", cell: (r) => [r.author ?? h("span", { class: "muted" }, "unknown"), " ", verified(r)] },
        { title: "Why", cell: (r) => r.approvedBy ?? r.reasons.at(-1) ?? "" },
        { title: "Merge commit", cell: (r) => shortSha(r.mergeCommit) },
        { title: "Seen", cell: (r) => time(r.seenAt) },
      ],
      page.items,
      { empty: filtered ? "No request matches these filters." : "No request yet." },
    ),
    pager(ctx, "/requests", q, cursor, page.nextCursor),
    unreviewedSection(unreviewed),
  );
}

function summary(r) {
  return details([
    ["Status", requestStatus(r.status)],
    ["Kind", r.kind],
    ["Author", [r.author ?? "unknown", " ", verified(r), r.authorEmail ? h("span", { class: "muted" }, ` <${r.authorEmail}>`) : null]],
    ["Source", r.source === "api" ? "submitted through the API" : "pushed with git"],
    ["Branch", [mono(r.branch), " at ", shortSha(r.revision), " in ", mono(r.repository)]],
    ["Approved by", r.approvedBy],
    ["Decided by", r.decidedBy ? [r.decidedBy, r.decisionReason ? `: ${r.decisionReason}` : ""] : null],
    ["Merge commit", r.mergeCommit ? mono(r.mergeCommit) : SETTLED.has(r.status) ? null : h("span", { class: "muted" }, "not merged yet")],
    ["Superseded by", r.supersededBy ? h("a", { href: `#/requests/${r.supersededBy}` }, r.supersededBy) : null],
    ["Seen", time(r.seenAt)],
    ["Decided", r.decidedAt ? time(r.decidedAt) : null],
    ["Merged", r.mergedAt ? time(r.mergedAt) : null],
  ]);
}

function decisionsSection(decisions) {
  if (decisions.length === 0) return h("p", { class: "muted" }, "No approval policy was evaluated (a document that does not lint, or no proposed document).");
  return decisions.map((d) =>
    h(
      "section",
      { class: "decision" },
      h("h3", {}, d.policy, " ", h("span", { class: "muted" }, "on "), mono(d.path)),
      h("p", {}, h("span", { class: "badge tone-info" }, d.outcome), " ", d.reason),
      table(
        `Conditions of ${d.policy}`,
        [
          { title: "Condition", cell: (c) => mono(c.name) },
          { title: "Value", cell: (c) => conditionValue(c.value) },
          { title: "Detail", cell: (c) => c.detail },
        ],
        d.conditions,
        { empty: "No condition." },
      ),
    ),
  );
}

export async function renderRequest(ctx) {
  const id = ctx.params[0];
  ctx.setTitle(`Request ${id}`);
  const load = async () => {
    const [request, decisions] = await Promise.all([ctx.api(`/api/v1/requests/${id}`), ctx.api(`/api/v1/requests/${id}/decisions`)]);
    return { request, decisions: decisions.items };
  };
  const first = await load();
  const summaryBox = h("div", {});
  const reasonsBox = h("div", {});
  const decisionsBox = h("div", {});
  const liveLine = h("p", { class: "live" });
  const fill = (s) => {
    replaceContent(summaryBox, summary(s.request));
    replaceContent(reasonsBox, reasonList(s.request.reasons) ?? h("p", { class: "muted" }, "No reason recorded."));
    replaceContent(decisionsBox, decisionsSection(s.decisions));
    replaceContent(
      liveLine,
      SETTLED.has(s.request.status)
        ? ["Final state: ", requestStatus(s.request.status)]
        : [h("span", { class: "live-dot", "aria-hidden": "true" }), `Following this request live, every ${TRACK_MS / 1000} s`],
    );
  };
  fill(first);
  let last = first.request.status;
  if (!SETTLED.has(last)) {
    ctx.every(TRACK_MS, async () => {
      let s;
      try {
        s = await load();
      } catch (err) {
        if (ctx.live) replaceContent(liveLine, h("span", { class: "warn-text" }, `Live updates interrupted: ${err.message}; retrying`));
        throw err;
      }
      if (!ctx.live) return;
      fill(s);
      if (s.request.status !== last) ctx.announce(`Request ${s.request.path ?? id} is now ${s.request.status}`);
      last = s.request.status;
      return !SETTLED.has(last);
    });
  }
  const r = first.request;
  return h(
    "div",
    {},
    h("p", { class: "crumbs" }, h("a", { href: "#/requests" }, "Requests"), " / ", r.path ?? r.branch),
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Request ", h("code", {}, id)), liveLine),
    h("div", { class: "two-col" }, h("section", {}, h("h2", { id: "summary-heading" }, "Summary"), summaryBox), h("section", {}, h("h2", { id: "reasons-heading" }, "Reasons"), reasonsBox)),
    h("section", {}, h("h2", { id: "decisions-heading" }, "Approval policies"), decisionsBox),
    h(
      "section",
      {},
      h("h2", { id: "documents-heading" }, "Documents"),
      r.documents.map((d) => [h("p", {}, mono(d.path), " (", d.kind, ")"), h("pre", { class: "document", tabindex: "0", "aria-label": `Document ${d.path}` }, d.content)]),
    ),
  );
}

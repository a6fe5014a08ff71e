// The shadow of the real request tickets: whether relengd's approval policies agree with the
// request processor on releng/fedora-scm-requests, counted by kind, with each disagreement listed.
import { h, table } from "../dom.js";
import { mono, time } from "../format.js";

const OUTCOMES = ["agreed", "disagreed", "undecidable"];
const tone = { agreed: "ok", disagreed: "bad", undecidable: "warn" };

function outcomeBadge(value) {
  return h("span", { class: `badge tone-${tone[value] ?? "muted"}` }, value);
}

/** The agreement section (the page's body; also usable on its own). */
export function agreementSection(summary) {
  const byKind = new Map();
  for (const c of summary.counts) {
    const row = byKind.get(c.kind) ?? { kind: c.kind, agreed: 0, disagreed: 0, undecidable: 0 };
    row[c.outcome] = c.count;
    byKind.set(c.kind, row);
  }
  const { agreed, disagreed, undecidable } = summary.totals;
  return h(
    "section",
    { "aria-labelledby": "agreement-heading" },
    h("h2", { id: "agreement-heading" }, "Agreement with the request processor"),
    h(
      "p",
      { class: "totals" },
      outcomeBadge("agreed"), ` ${agreed} `,
      outcomeBadge("disagreed"), ` ${disagreed} `,
      outcomeBadge("undecidable"), ` ${undecidable}`,
      summary.since ? ` (tickets closed since ${summary.since})` : "",
    ),
    table(
      "Closed tickets by kind and agreement",
      [{ title: "Kind", cell: (r) => (r.kind === "none" ? h("span", { class: "muted" }, "no request (no ticket JSON)") : r.kind) }, ...OUTCOMES.map((o) => ({ title: o, cell: (r) => String(r[o]) }))],
      [...byKind.values()],
      { empty: "No closed ticket compared yet.", showCaption: true },
    ),
    h("h3", { id: "disagreements-heading" }, "Disagreements"),
    table(
      "Disagreements",
      [
        { title: "Ticket", cell: (d) => [String(d.ticketId), " ", mono(d.branch)] },
        { title: "Request", cell: (d) => [d.kind ?? "", " ", d.path ? mono(d.path) : "", h("div", { class: "muted" }, d.title)] },
        { title: "relengd", cell: (d) => d.relengd },
        { title: "Request processor", cell: (d) => d.bot },
        { title: "Closed", cell: (d) => time(d.comparedAt) },
      ],
      summary.disagreements,
      { empty: "relengd agrees with every ticket it could judge." },
    ),
  );
}

export async function renderShadow(ctx) {
  ctx.setTitle("Shadow");
  const since = ctx.query.get("since") ?? "";
  const summary = await ctx.api("/api/v1/shadow/agreement", since ? { since } : {});
  return h(
    "div",
    {},
    h("h1", { tabindex: "-1" }, "Shadow"),
    h(
      "p",
      { class: "muted" },
      "Every ticket of pagure.io's ",
      mono("releng/fedora-scm-requests"),
      " is mirrored as a merge request ",
      mono("mr/scm-<id>"),
      " of the shadow repository and judged by relengd's own approval policies; once the request processor closes it, the two outcomes are compared.",
    ),
    agreementSection(summary),
  );
}

// Event log: the bus messages relengd received (consumed or posted), newest first, with what
// became of each (status and reason) and the envelope itself; filtered and paged on the server.
import { h, table } from "../dom.js";
import { mono, status, time } from "../format.js";
import { pager } from "./artifacts.js";

const PAGE = 50;
const STATUSES = ["accepted", "waiting", "ignored", "deferred", "rejected", "duplicate"];

/** The envelope as received, or the raw content when it did not parse, folded away until asked for. */
function envelopeOf(e) {
  const text = e.envelope ? JSON.stringify(e.envelope, null, 2) : e.raw ?? "";
  return h("details", {}, h("summary", {}, e.envelope ? "Envelope" : "Raw content (not an envelope)"), h("pre", { class: "document", tabindex: "0", "aria-label": `Message ${e.messageId}` }, text));
}

export async function renderEvents(ctx) {
  ctx.setTitle("Event log");
  const q = { status: ctx.query.get("status") ?? "", topic: ctx.query.get("topic") ?? "" };
  const cursor = ctx.query.get("cursor") ?? "";
  const page = await ctx.api("/api/v1/events", { ...q, cursor, limit: PAGE });
  const onsubmit = (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    location.hash = ctx.link("/events", { status: form.get("status"), topic: String(form.get("topic") ?? "").trim() });
  };
  const filtered = Object.values(q).some(Boolean);
  return h(
    "div",
    {},
    h("h1", { tabindex: "-1" }, "Event log"),
    h("p", { class: "muted" }, "Messages from the Fedora message bus (and POST /api/v1/events), newest first, with what relengd did with each."),
    h(
      "form",
      { role: "search", "aria-label": "Filter events", class: "filters", onsubmit },
      h(
        "div",
        { class: "field" },
        h("label", { for: "ev-status" }, "Status"),
        h("select", { id: "ev-status", name: "status" }, h("option", { value: "" }, "any"), STATUSES.map((s) => h("option", { value: s, selected: s === q.status }, s))),
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: "ev-topic" }, "Topic"),
        h("input", { id: "ev-topic", name: "topic", type: "search", value: q.topic, autocomplete: "off", spellcheck: "false", placeholder: "buildsys.tag" }),
      ),
      h("div", { class: "field actions" }, h("button", { type: "submit" }, "Filter"), h("a", { href: "#/events", class: "button secondary" }, "Clear")),
    ),
    h("p", { class: "muted", role: "status" }, `${page.items.length} shown${page.nextCursor ? ", more on the next page" : ""}, newest first.`),
    table(
      "Bus events",
      [
        { title: "Received", cell: (e) => time(e.receivedAt) },
        { title: "Topic", cell: (e) => mono(e.topic) },
        { title: "Status", cell: (e) => [status(e.status), e.deliveries > 1 ? h("div", { class: "small muted" }, `delivered ${e.deliveries} times`) : null] },
        { title: "Reason", cell: (e) => h("span", { "data-event-reason": e.messageId }, e.reason) },
        {
          title: "Artifact",
          cell: (e) => (e.artifactId ? h("a", { href: `#/artifacts/${encodeURIComponent(e.artifactId)}` }, e.nvr ?? e.artifactId) : h("span", { class: "muted" }, "—")),
        },
        { title: "Message", cell: (e) => [mono(e.messageId), envelopeOf(e)] },
      ],
      page.items,
      { empty: filtered ? "No event matches these filters." : "No bus message has been received yet." },
    ),
    pager(ctx, "/events", q, cursor, page.nextCursor),
  );
}

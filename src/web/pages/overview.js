// Overview: the writers' queues, the last day's outcomes, freezes, holds, the bus; refreshed live.
import { details, h, replaceContent, table } from "../dom.js";
import { ago, mono, status, time, utc } from "../format.js";

const REFRESH_MS = 5000;
const MAX_HOLDS_SHOWN = 100;

function queueSection(ctx, queue) {
  return h(
    "section",
    {},
    h("h2", { id: "queue-heading" }, "Writer queues"),
    table(
      "Queued releases per GitOps repository",
      [
        { title: "Repository", cell: (q) => [mono(q.repository), " ", h("span", { class: "muted" }, q.branch)] },
        { title: "Depth", cell: (q) => h("span", { "data-queue-depth": `${q.repository}/${q.branch}` }, String(q.depth)) },
        { title: "Queued / committed", cell: (q) => `${q.queued} / ${q.committed}` },
        {
          title: "Oldest in queue",
          cell: (q) =>
            q.oldest
              ? [
                  h("a", { href: `#/releases/${q.oldest.id}` }, `${q.oldest.package} → ${q.oldest.environment}`),
                  " ",
                  h("span", { class: "muted" }, `queued ${ago(q.oldest.createdAt)}`),
                  q.oldest.attempts > 0 ? h("div", { class: "small warn-text" }, `attempt ${q.oldest.attempts} failed: ${q.oldest.error ?? ""}`) : null,
                ]
              : h("span", { class: "muted" }, "empty"),
        },
      ],
      queue,
      { empty: "No GitOps repository is declared." },
    ),
  );
}

function outcomesSection(ctx, last24h) {
  const tile = (key, label) =>
    h(
      "li",
      { class: `tile tone-${key === "pushed" ? "ok" : key === "failed" ? "bad" : key === "blocked" ? "warn" : "muted"}` },
      h("a", { href: ctx.link("/releases", { status: key }), "data-focus": `tile-${key}` }, h("span", { class: "tile-number", "data-stat": key }, String(last24h[key])), h("span", { class: "tile-label" }, label)),
    );
  return h(
    "section",
    {},
    h("h2", { id: "outcomes-heading" }, "Last 24 hours"),
    h("ul", { class: "tiles" }, tile("pushed", "pushed"), tile("failed", "failed"), tile("blocked", "blocked"), tile("superseded", "superseded")),
    h("p", { class: "muted small" }, `Releases that reached each state since ${utc(last24h.since)}.`),
  );
}

function freezesSection(freezes) {
  return h(
    "section",
    {},
    h("h2", { id: "freezes-heading" }, "Freezes"),
    table(
      "Active and upcoming freezes",
      [
        { title: "Environment", cell: (f) => h("a", { href: `#/environments/${f.environment}` }, f.environment) },
        { title: "State", cell: (f) => h("span", { class: `badge tone-${f.active ? "warn" : "info"}` }, f.active ? "frozen now" : "upcoming") },
        { title: "Reason", cell: (f) => f.reason },
        { title: "From", cell: (f) => time(f.start) },
        { title: "Until", cell: (f) => time(f.end) },
      ],
      freezes,
      { empty: "No environment is frozen, and no freeze starts in the next 14 days." },
    ),
  );
}

function holdsSection(holds) {
  return h(
    "section",
    {},
    h("h2", { id: "holds-heading" }, "Holds"),
    table(
      "Holds on packages",
      [
        { title: "Package", cell: (x) => mono(x.package) },
        { title: "Environment", cell: (x) => h("a", { href: `#/environments/${x.environment}` }, x.environment) },
        { title: "Reason", cell: (x) => x.reason },
        { title: "By", cell: (x) => x.createdBy },
        { title: "Since", cell: (x) => time(x.createdAt) },
        { title: "Rollback", cell: (x) => (x.releaseId ? h("a", { href: `#/releases/${x.releaseId}` }, "release") : "—") },
      ],
      holds.slice(0, MAX_HOLDS_SHOWN),
      { empty: "No package is held." },
    ),
    holds.length > MAX_HOLDS_SHOWN ? h("p", { class: "muted" }, `${holds.length - MAX_HOLDS_SHOWN} more holds are not shown.`) : null,
  );
}

function busSection(bus) {
  const counts = Object.entries(bus.sinceStart);
  return h(
    "section",
    {},
    h("h2", { id: "bus-heading" }, "Message bus"),
    details([
      ["Last message", bus.lastMessage ? [mono(bus.lastMessage.topic), " ", status(bus.lastMessage.status), " ", time(bus.lastMessage.receivedAt)] : h("span", { class: "muted" }, "none received yet")],
      ["Results waiting for their build", String(bus.waitingResults)],
      ["Since this server started", counts.length > 0 ? counts.map(([k, v]) => `${k} ${v}`).join(", ") : h("span", { class: "muted" }, "no messages")],
    ]),
    h("p", {}, h("a", { href: "#/events" }, "Event log")),
  );
}

function recentSection(ctx, latest) {
  return h(
    "section",
    {},
    h("h2", { id: "recent-heading" }, "Latest releases"),
    table(
      "Latest releases",
      [
        {
          title: "Build",
          cell: (r) => h("a", { href: `#/releases/${r.id}`, "data-latest-release": r.id }, r.nvrs.length > 0 ? r.nvrs.map((n, k) => [k > 0 ? ", " : null, mono(n)]) : r.package),
        },
        { title: "Environment", cell: (r) => r.environment },
        { title: "Status", cell: (r) => [status(r.status), r.status === "blocked" && r.reason ? h("div", { class: "small warn-text" }, r.reason) : null] },
        { title: "Trigger", cell: (r) => r.trigger },
        { title: "Changed", cell: (r) => time(r.updatedAt) },
      ],
      latest,
      { empty: "No release yet." },
    ),
    h("p", {}, h("a", { href: "#/releases" }, "All releases")),
  );
}

export async function renderOverview(ctx) {
  ctx.setTitle("Overview");
  const load = () => Promise.all([ctx.api("/api/v1/overview"), ctx.api("/api/v1/holds")]);
  const [first, firstHolds] = await load();
  const data = h("div", { class: "overview-grid" });
  const stamp = h("span", {});
  const fill = (o, holds) => {
    replaceContent(data, outcomesSection(ctx, o.last24h), queueSection(ctx, o.queue), recentSection(ctx, o.latest), freezesSection(o.freezes), holdsSection(holds.items), busSection(o.bus));
    replaceContent(stamp, "Updated ", h("time", { datetime: o.generatedAt }, utc(o.generatedAt)));
  };
  fill(first, firstHolds);
  let previous = JSON.stringify([first.last24h, first.queue]);
  let previousAt = first.generatedAt;
  ctx.every(REFRESH_MS, async () => {
    let o, holds;
    try {
      [o, holds] = await load();
    } catch (err) {
      // The last data stays on screen, marked as such; the next tick tries again.
      if (ctx.live) replaceContent(stamp, h("span", { class: "warn-text" }, `Not updated since ${utc(previousAt)}: ${err.message}`));
      throw err;
    }
    if (!ctx.live) return;
    previousAt = o.generatedAt;
    fill(o, holds);
    const now = JSON.stringify([o.last24h, o.queue]);
    if (now !== previous) ctx.announce(`Overview updated: ${o.last24h.pushed} pushed, ${o.last24h.failed} failed in the last 24 hours`);
    previous = now;
  });
  return h(
    "div",
    {},
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Overview"), h("p", { class: "live" }, h("span", { class: "live-dot", "aria-hidden": "true" }), `Live, every ${REFRESH_MS / 1000} s · `, stamp)),
    data,
  );
}

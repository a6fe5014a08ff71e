// Environments: where releases go; for each, what it holds now (package → NVR) and its freezes.
import { details, h, table } from "../dom.js";
import { mono, shortSha, time } from "../format.js";
import { pager } from "./artifacts.js";

const PAGE = 100;

function target(e) {
  switch (e.kind) {
    case "KojiTag":
      return ["Koji tag ", mono(e.kojiTag.tag)];
    case "BodhiUpdate":
      return ["Bodhi ", mono(e.bodhi.release), ` ${e.bodhi.request}`];
    case "ComposeRequest":
      return ["Compose ", mono(e.compose.release), ` ${e.compose.type}`];
    default:
      return e.kind ?? "";
  }
}

function freezeState(f, now = Date.now()) {
  if (Date.parse(f.end) <= now) return h("span", { class: "badge tone-muted" }, "over");
  if (Date.parse(f.start) <= now) return h("span", { class: "badge tone-warn" }, "frozen now");
  return h("span", { class: "badge tone-info" }, "upcoming");
}

export async function renderEnvironments(ctx) {
  ctx.setTitle("Environments");
  const envs = await ctx.api("/api/v1/environments");
  return h(
    "div",
    {},
    h("h1", { tabindex: "-1" }, "Environments"),
    table(
      "Environments",
      [
        { title: "Environment", cell: (e) => h("a", { href: `#/environments/${e.name}` }, e.name) },
        { title: "Target", cell: target },
        { title: "Repository", cell: (e) => [mono(e.repository), " ", h("span", { class: "muted" }, e.branch ?? "")] },
        { title: "Freezes", cell: (e) => (e.freezes.length === 0 ? h("span", { class: "muted" }, "none") : e.freezes.map((f, i) => [i > 0 ? " " : null, freezeState(f)])) },
        { title: "Description", cell: (e) => e.description ?? "" },
      ],
      envs.items,
      { empty: "No environment is declared (policies/environments.yaml)." },
    ),
  );
}

export async function renderEnvironment(ctx) {
  const name = ctx.params[0];
  ctx.setTitle(`Environment ${name}`);
  const prefix = ctx.query.get("package") ?? "";
  const cursor = ctx.query.get("cursor") ?? "";
  const [state, envs, holds] = await Promise.all([
    ctx.api(`/api/v1/environments/${name}/state`, { package: prefix, cursor, limit: PAGE }),
    ctx.api("/api/v1/environments"),
    ctx.api("/api/v1/holds", { environment: name }),
  ]);
  // Declared a moment ago (the state answered): found unless policies were reloaded in between.
  const e = envs.items.find((x) => x.name === name) ?? { name, repository: "", branch: null, url: null };
  const onsubmit = (event) => {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get("package") ?? "").trim();
    location.hash = ctx.link(`/environments/${name}`, { package: value });
  };
  const isTag = state.kind === "KojiTag";
  return h(
    "div",
    {},
    h("p", { class: "crumbs" }, h("a", { href: "#/environments" }, "Environments"), " / ", name),
    h("h1", { tabindex: "-1" }, "Environment ", h("code", {}, name)),
    details([
      ["Target", target(e)],
      ["Repository", [mono(e.repository), " ", h("span", { class: "muted" }, e.branch ?? ""), e.url ? [" ", h("code", { class: "muted" }, e.url)] : null]],
      ["Description", e.description],
      ["Waiting to be written", h("a", { href: ctx.link("/releases", { environment: name, status: "queued" }) }, `${state.pending} release${state.pending === 1 ? "" : "s"}`)],
    ]),
    h(
      "section",
      {},
      h("h2", { id: "freezes-heading" }, "Freezes"),
      table(
        "Freeze windows",
        [
          { title: "State", cell: (f) => freezeState(f) },
          { title: "Reason", cell: (f) => f.reason },
          { title: "From", cell: (f) => time(f.start) },
          { title: "Until", cell: (f) => time(f.end) },
          { title: "Exceptions", cell: (f) => [...f.exceptions.packages, ...f.exceptions.artifacts].join(", ") || "—" },
        ],
        state.freezes,
        { empty: "No freeze window is declared." },
      ),
    ),
    holds.items.length > 0
      ? h(
          "section",
          {},
          h("h2", { id: "holds-heading" }, "Holds"),
          table(
            "Holds in this environment",
            [
              { title: "Package", cell: (x) => mono(x.package) },
              { title: "Reason", cell: (x) => x.reason },
              { title: "By", cell: (x) => x.createdBy },
              { title: "Since", cell: (x) => time(x.createdAt) },
            ],
            holds.items,
          ),
        )
      : null,
    h(
      "section",
      {},
      h("h2", { id: "contents-heading" }, isTag ? "Tagged builds" : "Latest release per package"),
      h(
        "form",
        { role: "search", "aria-label": "Filter packages", class: "filters", onsubmit },
        h(
          "div",
          { class: "field" },
          h("label", { for: "env-package" }, "Package starts with"),
          h("input", { id: "env-package", name: "package", type: "search", value: prefix, autocomplete: "off", spellcheck: "false", pattern: "[A-Za-z0-9_][A-Za-z0-9._+\\-]*" }),
        ),
        h("div", { class: "field actions" }, h("button", { type: "submit" }, "Filter")),
      ),
      h("p", { class: "muted small" }, "As relengd pushed it: per package, the newest pushed release (rollbacks included)."),
      table(
        isTag && e.kojiTag ? `Builds tagged into ${e.kojiTag.tag}` : "Latest pushed release per package",
        [
          { title: "Package", cell: (i) => i.package },
          { title: isTag ? "NVR" : "Builds", cell: (i) => (i.nvrs.length > 0 ? i.nvrs.map((n, k) => [k > 0 ? h("br") : null, mono(n)]) : h("span", { class: "muted" }, "—")) },
          { title: "Release", cell: (i) => h("a", { href: `#/releases/${i.releaseId}`, "data-release-id": i.releaseId }, mono(i.releaseId)) },
          { title: "Trigger", cell: (i) => i.trigger },
          { title: "Commit", cell: (i) => shortSha(i.commitSha) },
          { title: "Pushed", cell: (i) => time(i.pushedAt) },
        ],
        state.items,
        { empty: prefix ? `No package starting with ${prefix} was released here.` : "Nothing has been released here yet." },
      ),
      pager(ctx, `/environments/${name}`, { package: prefix }, cursor, state.nextCursor),
    ),
  );
}

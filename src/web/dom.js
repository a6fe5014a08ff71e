// Building DOM nodes: every value from the server goes in as text, never as HTML.

/**
 * h("a", { href: "#/x", class: "c" }, "text", child) → element. Attributes that are null,
 * undefined or false are left out; `on*` functions become event listeners.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces a container's content; keeps keyboard focus on the same control if it is still there. */
export function replaceContent(container, ...children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? focusKey(active) : null;
  container.replaceChildren();
  append(container, children);
  if (key) {
    const again = [...container.querySelectorAll("a, button, input, select, textarea, [tabindex]")].find((el) => focusKey(el) === key);
    if (again) again.focus();
  }
}

function focusKey(el) {
  return el.getAttribute("data-focus") ?? el.getAttribute("href") ?? (el.id || null);
}

/** Links only to http(s) pages; anything else stays text (a javascript: URL never becomes a link). */
export function externalLink(url, text = url) {
  if (typeof url !== "string" || !/^https?:\/\//i.test(url)) return h("span", {}, text ?? "");
  return h("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, text, h("span", { class: "visually-hidden" }, " (opens in a new tab)"));
}

/** A table with a caption, column headers and one row per item. */
export function table(caption, columns, rows, options = {}) {
  if (rows.length === 0) return h("p", { class: "empty" }, options.empty ?? "Nothing to show.");
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" },
    h(
      "table",
      {},
      h("caption", { class: options.showCaption ? null : "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.title)))),
      h(
        "tbody",
        {},
        rows.map((row) => h("tr", { class: options.rowClass?.(row) ?? null }, columns.map((c, i) => (i === 0 ? h("th", { scope: "row" }, c.cell(row)) : h("td", {}, c.cell(row)))))),
      ),
    ),
  );
}

/** A definition list from [term, value] pairs; pairs with an empty value are left out. */
export function details(pairs) {
  return h(
    "dl",
    { class: "details" },
    pairs.filter(([, value]) => value !== null && value !== undefined && value !== "").map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, value))),
  );
}

// How values look on the page: times, statuses, outcomes, shortened ids.
import { h } from "./dom.js";

const pad = (n) => String(n).padStart(2, "0");

/** 2025-05-01 12:34 UTC: one clock for everyone reading the same release. */
export function utc(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

export function ago(iso, now = Date.now()) {
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return "";
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const text = s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : s < 86400 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

/** A <time> with the UTC date as text and the relative age beside it. */
export function time(iso, options = {}) {
  if (!iso) return h("span", { class: "muted" }, options.none ?? "—");
  return h("span", { class: "when" }, h("time", { datetime: iso }, utc(iso)), options.relative === false ? null : h("span", { class: "muted" }, ` (${ago(iso)})`));
}

const statusTone = { checking: "info", queued: "info", committed: "info", pushed: "ok", failed: "bad", blocked: "warn", superseded: "muted", held: "warn", decided: "info", retrying: "warn", accepted: "ok", waiting: "info", deferred: "info", ignored: "muted", rejected: "bad" };

/** A release status as a word with a colour; the word alone carries the meaning. */
export function status(value) {
  return h("span", { class: `badge tone-${statusTone[value] ?? "muted"}` }, value);
}

const outcomeTone = { PASSED: "ok", FAILED: "bad", ERROR: "bad", NEEDS_INSPECTION: "warn", INFO: "info", QUEUED: "muted", RUNNING: "info" };

export function outcome(value) {
  return h("span", { class: `badge tone-${outcomeTone[value] ?? "muted"}` }, value);
}

export function shortSha(sha) {
  return sha ? h("code", { title: sha }, sha.slice(0, 10)) : h("span", { class: "muted" }, "—");
}

export function mono(text) {
  return h("code", {}, text);
}

// Cron schedules (policies' spec.schedule, RELENGD_PRUNE_SCHEDULE): the one place that decides
// which expressions relengd takes and what their slots are. node-cron fires the timers and
// cron-parser finds slots (prev(), which node-cron lacks); each reads cron in its own way, so
// only what both read alike is accepted (test/domain/schedule.test.ts compares them).
import { CronExpressionParser } from "cron-parser";

/** A schedule that passed parseSchedule: node-cron and cron-parser fire it at the same instants. */
export interface Schedule {
  readonly expression: string;
  readonly timezone: string;
  readonly __checked: unique symbol;
}

export type ScheduleField = "expression" | "minute" | "hour" | "day-of-month" | "month" | "day-of-week" | "timezone";

export type ScheduleParse = { ok: true; value: Schedule } | { ok: false; field: ScheduleField; reason: string };

interface FieldRule {
  name: Exclude<ScheduleField, "expression" | "timezone">;
  min: number;
  max: number;
  /** Three-letter names, case-insensitive, standing for min, min + 1, … */
  names?: readonly string[];
}

const FIELDS: readonly FieldRule[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  // 7 is Sunday too, in both libraries.
  { name: "day-of-week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

// The macros both libraries know, spelled as both accept them (node-cron also takes @DAILY and
// padding, cron-parser also @minutely and @secondly).
const MACROS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

type FieldValue = { kind: "any" } | { kind: "values"; values: Set<number>; lastDay: boolean };

class Refusal extends Error {
  constructor(
    readonly field: ScheduleField,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

function numberIn(text: string, rule: FieldRule): number {
  let n: number;
  if (/^[0-9]{1,2}$/.test(text)) n = Number(text);
  else {
    const i = rule.names?.indexOf(text.toLowerCase()) ?? -1;
    if (i < 0) {
      const named = rule.names ? ` or a name like ${rule.names[1]?.toUpperCase() ?? ""}` : "";
      throw new Refusal(rule.name, `"${text}" is not a number${named}`);
    }
    n = rule.min + i;
  }
  if (n < rule.min || n > rule.max) throw new Refusal(rule.name, `${n} is outside ${rule.min}-${rule.max}`);
  return n;
}

function stepOf(text: string, rule: FieldRule): number {
  if (!/^[0-9]{1,15}$/.test(text) || Number(text) < 1) throw new Refusal(rule.name, `step "/${text}" must be a whole number from 1 up`);
  return Number(text);
}

/** One comma-separated item: the values it names (day-of-week 7 counted as 0). */
function itemValues(item: string, rule: FieldRule): number[] {
  const norm = (n: number) => (rule.name === "day-of-week" && n === 7 ? 0 : n);
  const stepped = /^(.+)\/(.+)$/.exec(item);
  const body = stepped ? stepped[1]! : item;
  const step = stepped ? stepOf(stepped[2]!, rule) : 1;
  let from: number;
  let to: number;
  if (body === "*") {
    [from, to] = [rule.min, rule.name === "day-of-week" ? 6 : rule.max];
  } else {
    const range = /^([^-]+)-([^-]+)$/.exec(body);
    if (range) {
      [from, to] = [numberIn(range[1]!, rule), numberIn(range[2]!, rule)];
      // node-cron wraps a backward range round the end (FRI-MON); cron-parser refuses it.
      if (from > to) throw new Refusal(rule.name, `range ${body} runs backwards: write it as two ranges`);
    } else if (stepped) {
      // cron-parser reads 5/15 as 5-59/15; node-cron refuses it.
      throw new Refusal(rule.name, `"${item}" needs a range or * before the step, like ${body}-${rule.max}/${step}`);
    } else {
      from = to = numberIn(body, rule);
    }
  }
  const out: number[] = [];
  for (let n = from; n <= to; n += step) out.push(norm(n));
  return out;
}

function parseField(text: string, rule: FieldRule): FieldValue {
  // `?` is cron's "no particular day": both libraries read it as *.
  if (text === "*" || ((rule.name === "day-of-month" || rule.name === "day-of-week") && text === "?")) return { kind: "any" };
  const values = new Set<number>();
  let lastDay = false;
  const items = text.split(",");
  for (const item of items) {
    if (item === "") throw new Refusal(rule.name, `"${text}" has an empty list item`);
    if (rule.name === "day-of-month" && item.toUpperCase() === "L") {
      if (lastDay) throw new Refusal(rule.name, "names L twice");
      lastDay = true;
      continue;
    } else if (rule.name === "day-of-week" && /^[0-7](L|#[1-5])$/i.test(item)) {
      // 5L (last Friday) may share a list; 1#2 (second Monday) stands alone: cron-parser refuses it in a list.
      if (item.includes("#") && items.length > 1) throw new Refusal(rule.name, `${item} stands alone, not in a list`);
      continue;
    } else if (/^(L(-[0-9]*)?W?|[0-9]*L|[0-9]+W|.*#.*)$/i.test(item)) {
      throw new Refusal(rule.name, `"${item}" uses L, W or # in a way only one of relengd's cron libraries reads (L as a day of the month, 5L and 1#2 as days of the week are read alike)`);
    }
    // Within one item (0-7) a repeat is harmless to both; across items cron-parser refuses it, node-cron takes it.
    for (const n of new Set(itemValues(item, rule))) {
      if (values.has(n)) throw new Refusal(rule.name, `names ${n} more than once`);
      values.add(n);
    }
  }
  return { kind: "values", values, lastDay };
}

/**
 * The local hours in which `timezone` moves its clocks (a wall time skipped or repeated) from
 * 2026 to 2035. There node-cron and cron-parser fire different instants: node-cron skips a
 * missing time that cron-parser fires an hour late, and of a repeated time each picks its own.
 * Fixed years, not today's: a schedule valid once is valid on every day relengd starts.
 */
export function clockChangeHours(timezone: string): ReadonlySet<number> {
  const cached = clockChangeCache.get(timezone);
  if (cached) return cached;
  const format = new Intl.DateTimeFormat("en-US", { timeZone: timezone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" });
  const offsetAt = (ms: number): number => {
    const p = Object.fromEntries(format.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0) - Math.floor(ms / 60_000) * 60_000;
  };
  const hours = new Set<number>();
  const WEEK = 7 * 86_400_000;
  for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2036, 0, 1); t += WEEK) {
    const before = offsetAt(t);
    const after = offsetAt(t + WEEK);
    if (before === after) continue;
    // The first minute on the new offset.
    let [lo, hi] = [t, t + WEEK];
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
      if (offsetAt(mid) === before) lo = mid;
      else hi = mid;
    }
    // Wall times from the lower offset's reading of the change to the higher's are skipped or repeated.
    const first = hi + Math.min(before, after);
    const last = hi + Math.max(before, after);
    for (let wall = first; wall < last; wall += 60_000) hours.add(new Date(wall).getUTCHours());
  }
  clockChangeCache.set(timezone, hours);
  return hours;
}
const clockChangeCache = new Map<string, ReadonlySet<number>>();

function knownTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a cron expression (five fields: minute hour day-of-month month day-of-week, or a macro
 * like @daily) in an IANA time zone. A refusal names the field and says why.
 */
export function parseSchedule(expression: string, timezone = "UTC"): ScheduleParse {
  try {
    return { ok: true, value: checkedSchedule(expression, timezone) };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, field: err.field, reason: err.reason };
    throw err;
  }
}

/** A refusal as one sentence: `day-of-week: 8 is outside 0-7`. */
export function describeScheduleRefusal(r: { field: ScheduleField; reason: string }): string {
  return `${r.field}: ${r.reason}`;
}

function checkedSchedule(expression: string, timezone: string): Schedule {
  const text = expression.trim();
  // node-cron splits on spaces only; a tab is not a separator to it.
  if (!/^[^\s]+( +[^\s]+)*$/.test(text) || /[^ -~]/.test(expression)) throw new Refusal("expression", "must be cron fields separated by spaces, like 0 5 * * *");
  let fields: string[];
  if (text.startsWith("@")) {
    const expanded = MACROS[text];
    // cron-parser reads a macro only when it is the whole text, unpadded.
    if (expanded && text !== expression) throw new Refusal("expression", `${text} is a macro: write it without spaces around it`);
    if (!expanded) throw new Refusal("expression", `${text} is not one of ${Object.keys(MACROS).join(", ")}`);
    fields = expanded.split(" ");
  } else {
    fields = text.split(/ +/);
    if (fields.length === 6) throw new Refusal("expression", "has a seconds field: relengd schedules run on whole minutes, write five fields like 0 5 * * *");
    if (fields.length !== 5) throw new Refusal("expression", `has ${fields.length} fields, not five (minute hour day-of-month month day-of-week), like 0 5 * * *`);
  }
  const [, hour, dayOfMonth, month, dayOfWeek] = FIELDS.map((rule, i) => parseField(fields[i]!, rule)) as [FieldValue, FieldValue, FieldValue, FieldValue, FieldValue];
  // Vixie cron, and cron-parser, fire when either day field matches; node-cron only when both do.
  if (dayOfMonth.kind !== "any" && dayOfWeek.kind !== "any") {
    throw new Refusal("day-of-week", "restricts the day with day-of-month restricted too: cron reads that as either day, node-cron as both; set one of them to *");
  }
  if (dayOfMonth.kind === "values" && !dayOfMonth.lastDay && month.kind === "values") {
    const longest = Math.max(...[...month.values].map((m) => DAYS_IN_MONTH[m - 1] ?? 31));
    if (Math.min(...dayOfMonth.values) > longest) throw new Refusal("day-of-month", `no day named exists in the months named (at most ${longest} days)`);
  }
  if (!knownTimezone(timezone)) throw new Refusal("timezone", `"${timezone}" is not an IANA time zone like UTC or Europe/Prague`);
  const changes = clockChangeHours(timezone);
  const hours = hour.kind === "any" ? [...changes] : [...hour.values].filter((h) => changes.has(h));
  if (hours.length > 0) {
    throw new Refusal(
      "hour",
      `${timezone} moves its clocks within hour ${hours.sort((a, b) => a - b).join(", ")}, where relengd's cron libraries disagree on which times fire; leave ${hours.length > 1 ? "those hours" : "that hour"} out or use UTC`,
    );
  }
  try {
    // The last word is the slot library's: anything it still refuses is refused here too.
    CronExpressionParser.parse(text, { tz: timezone, currentDate: new Date(Date.UTC(2026, 0, 1)) }).next();
  } catch (err) {
    throw new Refusal("expression", `is not a cron expression relengd understands: ${(err as Error).message}`);
  }
  return { expression: text, timezone } as Schedule;
}

/** The last time at or before `now` the schedule fired, or undefined if never. */
export function previousSlot(schedule: Schedule, now: Date): Date | undefined {
  // prev() is strictly before currentDate; one millisecond later makes "at now" count.
  const it = CronExpressionParser.parse(schedule.expression, { tz: schedule.timezone, currentDate: new Date(now.getTime() + 1) });
  try {
    return it.prev().toDate();
  } catch {
    return undefined;
  }
}

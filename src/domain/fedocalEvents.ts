// fedocal's meetings on the bus (org.fedoraproject.prod.fedocal.meeting.new|update|delete) as
// CalendarEntry documents on the shadow repository's main: `calendar/<calendar>/<date>-<slug>.yaml`,
// the slug made of the meeting's name and fedocal's meeting id (two meetings of one name never
// share a file). What relengd/v1 cannot hold is named, as with the Bodhi shadow. Pure.
import {
  calendarEntryPath,
  calendarEntrySpecSchema,
  CALENDAR_TIME_PATTERN,
  isCalendarName,
  isRealDate,
  MANAGER_PATTERN,
  MAX_MEETING_MANAGERS,
  meetingSlug,
  TIME_ZONE_PATTERN,
  type CalendarEntrySpec,
} from "./requests/calendarEntry.js";
import { fieldErrorMap } from "./fieldIssues.js";
import { UnsafePathError } from "./paths.js";
import { isObject, publishedTopic, shown } from "./observedTopics.js";

export const fedocalMeetingActions = ["new", "update", "delete"] as const;
export type FedocalMeetingAction = (typeof fedocalMeetingActions)[number];

/** A meeting as one fedocal message shows it, as the CalendarEntry relengd mirrors. */
export interface FedocalMeeting {
  action: FedocalMeetingAction;
  meetingId: number;
  calendar: string;
  /** The meeting's name as mirrored (for commit subjects). */
  name: string;
  /** Where the entry goes; for a delete, where it would be (the stored path wins). */
  path: string;
  /** The document's spec; may not pass the schema where fedocal said something it cannot hold (see problems). */
  spec: CalendarEntrySpec;
  /** Relengd-Schema-Problem trailers: `/spec/<field> fedocal says …; why`. */
  problems: string[];
  /** fedocal's user who did it, when given. */
  agent?: string;
}

export type FedocalEffect =
  | { kind: "calendarEntry"; meeting: FedocalMeeting }
  | { kind: "ignored"; reason: string }
  | { kind: "rejected"; path: string; reason: string };

export function isFedocalTopic(topic: string): boolean {
  return publishedTopic(topic).bare.startsWith("fedocal.");
}

const MAX_ID = 2_147_483_647;
const AGENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const LOOSE_TIME = /^([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?(?:\.[0-9]+)?$/;

/** fedocal's meeting messages; reminders and calendar changes change no entry. */
export function mapFedocal(topic: string, body: Record<string, unknown>): FedocalEffect {
  const t = publishedTopic(topic);
  const action = /^fedocal\.meeting\.(new|update|delete)$/.exec(t.bare)?.[1] as FedocalMeetingAction | undefined;
  if (!action) {
    if (t.bare === "fedocal.meeting.reminder") return { kind: "ignored", reason: "a meeting reminder changes no calendar entry" };
    if (t.bare.startsWith("fedocal.calendar.")) return { kind: "ignored", reason: `${t.bare} changes a calendar, not a meeting; calendars are not mirrored` };
    return { kind: "ignored", reason: `topic ${t.bare.slice(0, 120)} is not one of fedocal's meeting topics relengd maps` };
  }
  if (t.publisher === "io.pagure" || (t.env !== null && t.env !== "prod")) {
    return { kind: "ignored", reason: `a meeting of the fedocal published as ${t.publisher}.${t.env}.*, not Fedora's production fedocal` };
  }
  const meeting = body.meeting;
  if (!isObject(meeting)) return { kind: "rejected", path: "/body/meeting", reason: "must describe the meeting (meeting_id, meeting_name, meeting_date, …)" };
  const id = meeting.meeting_id;
  if (typeof id !== "number" || !Number.isInteger(id) || id < 1 || id > MAX_ID) return { kind: "rejected", path: "/body/meeting/meeting_id", reason: "must be fedocal's meeting id (a positive whole number)" };

  const problems: string[] = [];
  const misfit = (field: string, value: unknown, why: string) => problems.push(`/spec/${field} fedocal says ${shown(value)}; ${why}`);

  const calendar = calendarOf(meeting, isObject(body.calendar) ? body.calendar : undefined, problems);
  if (!calendar.ok) return { kind: "rejected", path: calendar.path, reason: calendar.reason };

  const date = meeting.meeting_date;
  if (typeof date !== "string" || !isRealDate(date)) return { kind: "rejected", path: "/body/meeting/meeting_date", reason: "must be the meeting's day like 2026-12-07" };

  const name = oneLine(meeting.meeting_name, 200, "meeting_name", misfit) ?? `meeting ${id}`;
  if (meeting.meeting_name === undefined || meeting.meeting_name === null) misfit("meeting_name", meeting.meeting_name, "a meeting has a name");
  const spec: Partial<CalendarEntrySpec> & Record<string, unknown> = { meeting_name: name, meeting_date: date };

  const end = meeting.meeting_date_end;
  if (end !== undefined && end !== null) {
    if (typeof end !== "string" || !isRealDate(end)) misfit("meeting_date_end", end, "relengd/v1 wants a day like 2026-12-07; left out");
    else if (end < date) misfit("meeting_date_end", end, `it is before meeting_date ${date}; left out`);
    else spec.meeting_date_end = end;
  }
  for (const field of ["meeting_time_start", "meeting_time_stop"] as const) {
    const time = timeOf(meeting[field]);
    if (time.value !== undefined) spec[field] = time.value;
    if (time.why) misfit(field, meeting[field], time.why);
  }
  const zone = meeting.meeting_timezone;
  if (typeof zone === "string" && zone.isWellFormed() && TIME_ZONE_PATTERN.test(zone)) spec.meeting_timezone = zone;
  else {
    spec.meeting_timezone = "UTC";
    misfit("meeting_timezone", zone, "relengd/v1 wants a time zone name like Europe/Prague; UTC assumed, as fedocal does");
  }
  spec.meeting_manager = managersOf(meeting.meeting_manager, misfit);

  const location = nullableText(meeting.meeting_location, (v) => oneLine(v, 500, "meeting_location", misfit));
  if (location !== undefined) spec.meeting_location = location;
  const information = nullableText(meeting.meeting_information, (v) => longText(v, 20_000, "meeting_information", misfit));
  if (information !== undefined) spec.meeting_information = information;
  const region = nullableText(meeting.meeting_region, (v) => oneLine(v, 32, "meeting_region", misfit));
  if (region !== undefined) spec.meeting_region = region;

  const checked = calendarEntrySpecSchema.safeParse(spec, { error: fieldErrorMap });
  if (!checked.success) {
    for (const issue of checked.error.issues) problems.push(`/spec${issue.path.length > 0 ? "/" + issue.path.map(String).join("/") : ""} ${issue.message}`);
  }
  let path: string;
  try {
    path = calendarEntryPath({ meeting_date: date }, { calendar: calendar.name, slug: `${meetingSlug(name)}-${id}` });
  } catch (err) {
    if (err instanceof UnsafePathError) return { kind: "rejected", path: "/body/meeting", reason: err.message };
    throw err;
  }
  const agent = typeof body.agent === "string" && AGENT.test(body.agent) ? body.agent : undefined;
  return {
    kind: "calendarEntry",
    meeting: { action, meetingId: id, calendar: calendar.name, name, path, spec: spec as CalendarEntrySpec, problems, ...(agent ? { agent } : {}) },
  };
}

type Misfit = (field: string, value: unknown, why: string) => void;

/**
 * The meeting's calendar (the meeting's own calendar_name; the message's calendar object only when
 * the meeting names none). A name that would leave calendar/ is refused; one with other
 * characters (spaces) is made a calendar name and the misfit named.
 */
function calendarOf(meeting: Record<string, unknown>, calendar: Record<string, unknown> | undefined, problems: string[]): { ok: true; name: string } | { ok: false; path: string; reason: string } {
  const own = meeting.calendar_name;
  const other = calendar?.calendar_name;
  const [value, path] = typeof own === "string" ? [own, "/body/meeting/calendar_name"] : [other, "/body/calendar/calendar_name"];
  if (typeof value !== "string" || value.length === 0) return { ok: false, path: "/body/meeting/calendar_name", reason: "must name the meeting's calendar" };
  if (typeof own === "string" && typeof other === "string" && own !== other) {
    problems.push(`/calendar the meeting's calendar_name ${shown(own)} is not the message's calendar ${shown(other)}; the meeting's is used`);
  }
  if (isCalendarName(value)) return { ok: true, name: value };
  if (!value.isWellFormed() || /[/\\\x00-\x1f\x7f]/.test(value) || value.startsWith(".") || value.length > 200) {
    return { ok: false, path, reason: "must be a calendar name (letters, digits and ._+-), not a path" };
  }
  const made = value.replace(/[^A-Za-z0-9._+-]+/g, "-").replace(/^[^A-Za-z0-9_]+/, "").slice(0, 80);
  if (!isCalendarName(made)) return { ok: false, path, reason: "must be a calendar name (letters, digits and ._+-)" };
  problems.push(`/calendar fedocal's calendar ${shown(value)} is not a calendar name (letters, digits and ._+-); mirrored under ${made}`);
  return { ok: true, name: made };
}

/** One line of text, at most `max` characters; undefined when there is none. */
function oneLine(value: unknown, max: number, field: string, misfit: Misfit): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    misfit(field, value, "relengd/v1 wants text; left out");
    return undefined;
  }
  let text = value;
  if (!text.isWellFormed()) {
    text = text.toWellFormed();
    misfit(field, value, "it holds a lone UTF-16 surrogate, replaced by U+FFFD");
  }
  if (/[\x00-\x1f\x7f]/.test(text)) {
    text = text.replace(/[\x00-\x1f\x7f]+/g, " ");
    misfit(field, value, "relengd/v1 wants one line; line breaks and control characters made spaces");
  }
  text = text.trim();
  if (text.length > max) {
    misfit(field, value, `relengd/v1 holds at most ${max} characters; cut`);
    text = text.slice(0, max).trimEnd();
  }
  return text.length > 0 ? text : undefined;
}

function longText(value: unknown, max: number, field: string, misfit: Misfit): string | undefined {
  if (typeof value !== "string") {
    misfit(field, value, "relengd/v1 wants text; left out");
    return undefined;
  }
  let text = value;
  if (!text.isWellFormed()) {
    text = text.toWellFormed();
    misfit(field, value, "it holds a lone UTF-16 surrogate, replaced by U+FFFD");
  }
  if (text.length > max) {
    misfit(field, `${value.length} characters`, `relengd/v1 holds at most ${max}; cut`);
    text = text.slice(0, max);
  }
  return text;
}

/** fedocal sends null for an empty field: kept as null. */
function nullableText(value: unknown, read: (v: unknown) => string | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  // Blank text is an empty field (null); a value of another type is left out (and named by `read`).
  return read(value) ?? (typeof value === "string" ? null : undefined);
}

/**
 * A time as fedocal writes it, HH:MM:SS. Another form of a real time (no seconds, one-digit hour,
 * fractions) is written as HH:MM:SS and named: every mirrored entry has one form.
 */
function timeOf(value: unknown): { value?: string; why?: string } {
  const m = typeof value === "string" ? LOOSE_TIME.exec(value) : null;
  if (m) {
    const [h, min, s] = [Number(m[1]), Number(m[2]), m[3] === undefined ? 0 : Number(m[3])];
    if (h < 24 && min < 60 && s < 60) {
      const pad = (n: number) => String(n).padStart(2, "0");
      const time = `${pad(h)}:${pad(min)}:${pad(s)}`;
      if (time === value && CALENDAR_TIME_PATTERN.test(time)) return { value: time };
      return { value: time, why: `fedocal writes times as HH:MM:SS; written as ${time}` };
    }
  }
  return { why: "relengd/v1 wants a time like 14:00:00; left out" };
}

/**
 * The managers: a list of account names. Older fedocal kept them as one comma-separated string
 * (`ralph, pingou,`): split, and the misfit named.
 */
function managersOf(value: unknown, misfit: Misfit): string[] {
  let names: unknown[];
  if (Array.isArray(value)) names = value;
  else if (typeof value === "string") {
    names = value.split(/[,\s]+/).filter(Boolean);
    misfit("meeting_manager", value, "relengd/v1 wants a list of account names; the comma-separated text was split");
  } else {
    misfit("meeting_manager", value, "relengd/v1 wants a list of account names");
    return [];
  }
  const good = names.filter((n): n is string => typeof n === "string" && n.isWellFormed() && MANAGER_PATTERN.test(n));
  const unique = [...new Set(good)];
  if (good.length !== names.length) misfit("meeting_manager", value, "only Fedora account names are kept");
  else if (unique.length !== good.length) misfit("meeting_manager", value, "a manager named twice is kept once");
  if (unique.length > MAX_MEETING_MANAGERS) misfit("meeting_manager", `${unique.length} managers`, `relengd/v1 holds at most ${MAX_MEETING_MANAGERS}; the first kept`);
  return unique.slice(0, MAX_MEETING_MANAGERS);
}

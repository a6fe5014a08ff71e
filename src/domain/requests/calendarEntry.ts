// CalendarEntry: a meeting on a Fedora calendar, in fedocal's own field names
// (fedocal_messages: meeting_name, meeting_date, meeting_time_start, ...). The calendar and the
// file name come from the path: `calendar/<calendar>/<date>-<slug>.yaml`.
import { z } from "zod";
import { isSafeSegment, repoPath, UnsafePathError } from "../paths.js";
import { wellFormedString } from "../text.js";
import { proposedDocumentSchema, renderProposedYaml } from "./envelope.js";

/** fedocal writes dates as YYYY-MM-DD. */
export const CALENDAR_DATE_PATTERN = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
/** fedocal writes times as HH:MM:SS; a person writes HH:MM. */
export const CALENDAR_TIME_PATTERN = /^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$/;
/** An IANA time zone name (UTC, Europe/Prague, America/Argentina/Buenos_Aires, Etc/GMT+5). */
export const TIME_ZONE_PATTERN = /^[A-Za-z][A-Za-z0-9_+-]{0,31}(\/[A-Za-z0-9_+-]{1,32}){0,2}$/;
/** A Fedora account name, as fedocal lists meeting managers. */
export const MANAGER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
/** A calendar name as a path segment (fedocal's names: council, Fedora-release, infrastructure). */
export const CALENDAR_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,79}$/;

/** Whether YYYY-MM-DD names a day that exists (2026-02-30 does not). */
export function isRealDate(value: string): boolean {
  if (!CALENDAR_DATE_PATTERN.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

const date = () =>
  wellFormedString()
    .regex(CALENDAR_DATE_PATTERN, { message: "must be a date like 2026-12-07", abort: true })
    .refine(isRealDate, "must be a day that exists");
const time = () => wellFormedString().regex(CALENDAR_TIME_PATTERN, "must be a time like 14:00 or 14:00:00");
const oneLine = (max: number) =>
  wellFormedString()
    .min(1)
    .max(max)
    .refine((v) => !/[\x00-\x1f\x7f]/.test(v), "must be one line of text (no line breaks or control characters)");

export const MAX_MEETING_MANAGERS = 50;

export const calendarEntrySpecSchema = z
  .strictObject({
    meeting_name: oneLine(200),
    meeting_date: date(),
    /** The last day of a meeting that spans days; fedocal sends the start date for a one-day meeting. */
    meeting_date_end: date().optional(),
    meeting_time_start: time(),
    meeting_time_stop: time(),
    meeting_timezone: wellFormedString().regex(TIME_ZONE_PATTERN, "must be a time zone name like UTC or Europe/Prague").default("UTC"),
    meeting_manager: z
      .array(wellFormedString().regex(MANAGER_PATTERN, "must be a Fedora account name"))
      .min(1)
      .max(MAX_MEETING_MANAGERS)
      .refine((m) => new Set(m).size === m.length, "must not name a manager twice"),
    // fedocal sends null for the fields a meeting leaves empty.
    meeting_location: oneLine(500).nullable().optional(),
    meeting_information: wellFormedString().max(20_000).nullable().optional(),
    meeting_region: oneLine(32).nullable().optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.meeting_date_end !== undefined && spec.meeting_date_end < spec.meeting_date) {
      ctx.addIssue({ code: "custom", path: ["meeting_date_end"], message: `must not be before meeting_date (${spec.meeting_date})` });
    }
  });

export const calendarEntrySchema = proposedDocumentSchema("CalendarEntry", calendarEntrySpecSchema);
export type CalendarEntryDocument = z.output<typeof calendarEntrySchema>;
export type CalendarEntrySpec = CalendarEntryDocument["spec"];

/** Where an entry lives: its calendar, and the slug after the date in the file name. */
export interface CalendarEntryPlace {
  calendar: string;
  slug: string;
}

export function isCalendarName(name: string): boolean {
  return CALENDAR_NAME_PATTERN.test(name) && isSafeSegment(name);
}

/** `calendar/<calendar>/<meeting_date>-<slug>.yaml`; throws UnsafePathError for unsafe names. */
export function calendarEntryPath(spec: { meeting_date: string }, place: CalendarEntryPlace): string {
  if (!isCalendarName(place.calendar)) throw new UnsafePathError(`calendar ${JSON.stringify(place.calendar)} is not a calendar name (letters, digits and ._+-)`);
  if (!isRealDate(spec.meeting_date)) throw new UnsafePathError(`meeting_date ${JSON.stringify(spec.meeting_date)} is not a date like 2026-12-07`);
  return repoPath("calendar", place.calendar, `${spec.meeting_date}-${place.slug}`) + ".yaml";
}

/** The calendar, date and slug a path under calendar/ names; undefined for any other path. */
export function calendarEntryPlaceOf(path: string): (CalendarEntryPlace & { date: string }) | undefined {
  const m = /^calendar\/([^/]+)\/([0-9]{4}-[0-9]{2}-[0-9]{2})-([^/]+)\.yaml$/.exec(path);
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  if (!isCalendarName(m[1]) || !isSafeSegment(`${m[2]}-${m[3]}`)) return undefined;
  return { calendar: m[1], date: m[2], slug: m[3] };
}

/** A file-name slug of a meeting's name: lowercase ASCII words joined by dashes (`FESCo meeting` → `fesco-meeting`). */
export function meetingSlug(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[^\x00-\x7f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return slug === "" ? "meeting" : slug;
}

export function buildCalendarEntry(spec: CalendarEntrySpec): CalendarEntryDocument {
  return { apiVersion: "relengd/v1", kind: "CalendarEntry", spec };
}

export function renderCalendarEntry(doc: CalendarEntryDocument): string {
  return renderProposedYaml(doc);
}

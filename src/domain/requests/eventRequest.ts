// EventRequest: a Fedora event (a release party, a hackfest, Flock) asking for support, as the
// Mindshare committee reviews them. The path `events/<slug>.yaml` is the slug of the event's name.
import { z } from "zod";
import { repoPath } from "../paths.js";
import { wellFormedString } from "../text.js";
import { isRealDate, meetingSlug } from "./calendarEntry.js";
import { proposedDocumentSchema, renderProposedYaml } from "./envelope.js";

export const eventSizes = ["small", "large"] as const;
/** Budgets beyond this are not a typing slip away from a real one: refused rather than read. */
export const MAX_EVENT_BUDGET = 10_000_000;

const oneLine = (max: number) =>
  wellFormedString()
    .min(1)
    .max(max)
    .refine((v) => !/[\x00-\x1f\x7f]/.test(v), "must be one line of text (no line breaks or control characters)");
const day = () =>
  wellFormedString()
    .regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, { message: "must be a date like 2026-08-05", abort: true })
    .refine(isRealDate, "must be a day that exists");

export const eventRequestSpecSchema = z.strictObject({
  name: oneLine(200).refine((n) => /[A-Za-z0-9]/.test(n), "must hold a letter or digit (the file name is made of them)"),
  dates: z
    .strictObject({ start: day(), end: day() })
    .superRefine((d, ctx) => {
      if (d.end < d.start) ctx.addIssue({ code: "custom", path: ["end"], message: `must not be before start (${d.start})` });
    }),
  location: oneLine(500),
  /** The Fedora account that runs the event and reports on it. */
  owner: wellFormedString().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be a Fedora account name"),
  size: z.enum(eventSizes),
  budget: z.strictObject({
    amount: z.number().min(0).max(MAX_EVENT_BUDGET),
    currency: wellFormedString().regex(/^[A-Z]{3}$/, "must be an ISO 4217 currency code like USD").default("USD"),
  }),
});

export const eventRequestSchema = proposedDocumentSchema("EventRequest", eventRequestSpecSchema);
export type EventRequestDocument = z.output<typeof eventRequestSchema>;
export type EventRequestSpec = EventRequestDocument["spec"];

/** `events/<slug of the name>.yaml` (`Flock 2026` → events/flock-2026.yaml). */
export function eventRequestPath(spec: { name: string }): string {
  return repoPath("events", meetingSlug(spec.name)) + ".yaml";
}

export function buildEventRequest(spec: EventRequestSpec): EventRequestDocument {
  return { apiVersion: "relengd/v1", kind: "EventRequest", spec };
}

export function renderEventRequest(doc: EventRequestDocument): string {
  return renderProposedYaml(doc);
}

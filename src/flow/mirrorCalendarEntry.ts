// Use case: a fedocal meeting created, changed or deleted → a CalendarEntry commit on the shadow
// repository's main: the entry written (a meeting moved to another day or renamed: the old file
// removed in the same commit), or removed. An update that changes nothing commits nothing; a
// message older (by sent-at) than the one last applied is not applied.
import { createHash } from "node:crypto";
import { renderShadowCommitMessage } from "../domain/commitMessages/shadow.js";
import { sentAt, type Envelope } from "../domain/envelope.js";
import type { FedocalMeeting } from "../domain/fedocalEvents.js";
import { buildCalendarEntry, renderCalendarEntry } from "../domain/requests/calendarEntry.js";
import { SHADOW_MAIN } from "../domain/shadowBranches.js";
import type { BusEventOutcome, BusEventRepository } from "../store/busEventRepository.js";
import type { Tx } from "../store/store.js";

const ignored = (reason: string): BusEventOutcome => ({ status: "ignored", reason, artifactId: null, nvr: null });
const accepted = (reason: string): BusEventOutcome => ({ status: "accepted", reason, artifactId: null, nvr: null });

function subjectOf(meeting: FedocalMeeting, verb: string): string {
  const name = meeting.name.length > 80 ? `${meeting.name.slice(0, 79)}…` : meeting.name;
  return `fedocal: meeting ${meeting.meetingId} ${verb}: ${name} (${meeting.calendar}, ${meeting.spec.meeting_date})`;
}

export async function mirrorCalendarEntry(deps: { events: BusEventRepository }, tx: Tx, envelope: Envelope, meeting: FedocalMeeting, now: Date): Promise<BusEventOutcome> {
  const { observed, shadow } = deps.events;
  const current = await observed.meetingIn(tx, meeting.meetingId);
  const sent = sentAt(envelope) ?? null;
  const what = `meeting ${meeting.meetingId}`;
  if (current && sent && current.lastSentAt && sent.getTime() < current.lastSentAt.getTime()) {
    return ignored(`older (sent ${sent.toISOString()}) than what is mirrored of ${what} (message ${current.lastMessageId}, sent ${current.lastSentAt.toISOString()}); not applied`);
  }
  const base = { messageId: envelope.id, topic: envelope.topic, branch: SHADOW_MAIN, alias: null, mergeMessage: null };
  const lastSentAt = sent ?? current?.lastSentAt ?? null;

  if (meeting.action === "delete") {
    if (!current || current.state === "deleted") {
      // Kept as deleted: an older message of the meeting arriving later finds it gone.
      await observed.saveMeetingIn(tx, current, { meetingId: meeting.meetingId, calendar: current?.calendar ?? meeting.calendar, path: current?.path ?? meeting.path, state: "deleted", digest: current?.digest ?? "", lastSentAt, lastMessageId: envelope.id, deletedAt: current?.deletedAt ?? now }, now);
      return ignored(current ? `${what} was removed already (message ${current.lastMessageId}); nothing to remove` : `${what} was never mirrored; nothing to remove (recorded as deleted)`);
    }
    const message = renderShadowCommitMessage({ messageId: envelope.id, topic: envelope.topic, subject: subjectOf(meeting, "deleted"), nvrs: [], problems: [] });
    await shadow.queueIn(tx, { ...base, kind: "remove", path: current.path, content: "", message }, now);
    await observed.saveMeetingIn(tx, current, { meetingId: meeting.meetingId, calendar: current.calendar, path: current.path, state: "deleted", digest: current.digest, lastSentAt, lastMessageId: envelope.id, deletedAt: now }, now);
    return accepted(`${what} deleted: a commit removing ${current.path} from the shadow repository's ${SHADOW_MAIN} queued`);
  }

  const content = renderCalendarEntry(buildCalendarEntry(meeting.spec));
  const digest = createHash("sha256").update(content).digest("hex");
  const active = current?.state === "active" ? current : null;
  if (active && active.path === meeting.path && active.digest === digest) {
    await observed.saveMeetingIn(tx, current, { ...active, lastSentAt, lastMessageId: envelope.id, deletedAt: null }, now);
    return ignored(`${what} unchanged since message ${active.lastMessageId}; nothing committed`);
  }
  const removePaths = active && active.path !== meeting.path ? [active.path] : [];
  const verb = !active ? (current ? "created again" : meeting.action === "new" ? "created" : "mirrored") : removePaths.length > 0 ? "moved" : "changed";
  const message = renderShadowCommitMessage({ messageId: envelope.id, topic: envelope.topic, subject: subjectOf(meeting, verb), nvrs: [], problems: meeting.problems });
  await shadow.queueIn(tx, { ...base, kind: "calendar", path: meeting.path, content, message, removePaths }, now);
  await observed.saveMeetingIn(tx, current, { meetingId: meeting.meetingId, calendar: meeting.calendar, path: meeting.path, state: "active", digest, lastSentAt, lastMessageId: envelope.id, deletedAt: null }, now);
  const moved = removePaths.length > 0 ? ` (${removePaths[0]} removed in the same commit)` : "";
  const misfits = meeting.problems.length > 0 ? `; relengd/v1 cannot hold all of it: ${meeting.problems[0]}${meeting.problems.length > 1 ? ` (and ${meeting.problems.length - 1} more)` : ""}` : "";
  return accepted(`${what} ${verb}: ${meeting.path} queued for the shadow repository's ${SHADOW_MAIN}${moved}${misfits}`);
}

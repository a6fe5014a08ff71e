// Use case: a buildsys.* message about a Koji side tag (`<base>-side-<N>`): the side tag is stored
// as observed (base tag, id, package-list owner, packages); a tag or untag is also applied to the
// observed Koji tag state, as any other tag change is.
import type { SideTagSeen } from "../domain/sideTagEvents.js";
import { sentAt, type Envelope } from "../domain/envelope.js";
import type { BusEventOutcome, BusEventRepository } from "../store/busEventRepository.js";
import type { Tx } from "../store/store.js";

export async function observeSideTag(
  deps: { events: BusEventRepository },
  tx: Tx,
  envelope: Envelope,
  seen: SideTagSeen,
  now: Date,
  /** The tag change the message also is (buildsys.tag / untag), applied as busMapping's kojiTag effect is. */
  tagChange?: () => Promise<BusEventOutcome>,
): Promise<BusEventOutcome> {
  const changed = tagChange ? await tagChange() : undefined;
  const at = sentAt(envelope) ?? now;
  const { created, record } = await deps.events.observed.observeSideTagIn(tx, seen, at, envelope.id, seen.topic);
  const change = seen.packageChange ? `; package list: ${seen.packageChange.action} ${seen.packageChange.package}` : "";
  const owner = record.owner ? ` (owner ${record.owner})` : "";
  const side = `side tag ${seen.name} of ${seen.baseTag}${owner} ${created ? "first seen" : `seen in ${record.messages} messages`}${change}`;
  if (!changed) return { status: "accepted", reason: `observed: ${side}`, artifactId: null, nvr: null };
  // The tag change's own outcome leads: a stale one stays ignored, the side tag is recorded anyway.
  return { ...changed, reason: `${changed.reason}; ${side}` };
}

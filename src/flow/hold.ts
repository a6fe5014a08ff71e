// Use cases: place and lift a hold on (environment, package) by hand.
import type { Principal } from "../domain/token.js";
import type { EnvironmentSet } from "../domain/environmentSet.js";
import type { HoldRecord, ReleaseRepository } from "../store/releaseRepository.js";
import { releaseDenied } from "./releaseAccess.js";

export type HoldOutcome =
  | { status: "added"; hold: HoldRecord }
  | { status: "exists"; hold: HoldRecord }
  | { status: "forbidden"; reason: string }
  | { status: "unknown-environment"; environment: string };

export async function addHold(
  deps: { releases: ReleaseRepository; environments: () => EnvironmentSet },
  principal: Principal,
  req: { environment: string; package: string; reason: string },
): Promise<HoldOutcome> {
  const denied = releaseDenied(principal, req.environment, req.package);
  if (denied) return { status: "forbidden", reason: denied };
  if (!deps.environments().environments.has(req.environment)) return { status: "unknown-environment", environment: req.environment };
  return deps.releases.addHold({ ...req, createdBy: principal.subject });
}

export type LiftOutcome = { status: "removed"; hold: HoldRecord } | { status: "not-found" } | { status: "forbidden"; reason: string };

export async function liftHold(deps: { releases: ReleaseRepository }, principal: Principal, id: string): Promise<LiftOutcome> {
  const hold = (await deps.releases.holds()).find((h) => h.id === id);
  if (!hold) return { status: "not-found" };
  const denied = releaseDenied(principal, hold.environment, hold.package);
  if (denied) return { status: "forbidden", reason: denied };
  const removed = await deps.releases.removeHold(id);
  return removed ? { status: "removed", hold: removed } : { status: "not-found" };
}

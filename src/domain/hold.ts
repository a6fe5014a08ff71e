// Holds: a person (or a rollback) stops automatic releases of a package to an environment.

/** What a hold says wherever it stops a release: the pair it is on and why it was placed. */
export interface HeldPair {
  environment: string;
  package: string;
  reason: string;
}

/**
 * The sentence that explains a release stopped by a hold. Policy decisions, the write-time
 * recheck and a refused release all say it, and clients (`relengd track`, the dashboard) show it
 * as written, so it is made in one place.
 */
export function heldReason(hold: HeldPair): string {
  return `${hold.environment}/${hold.package} is held: ${hold.reason}`;
}

// A request's lifecycle: proposed → approved | needs-review | denied, approved → merged, and
// superseded (its branch moved) or withdrawn (its branch was deleted) while it is open.

export const requestStatuses = ["proposed", "approved", "needs-review", "denied", "merged", "superseded", "withdrawn"] as const;
export type RequestStatus = (typeof requestStatuses)[number];

/** Statuses a request can still leave: a moved or deleted branch ends them. */
export const openRequestStatuses: readonly RequestStatus[] = ["proposed", "approved", "needs-review", "denied"];

export function isRequestStatus(s: string): s is RequestStatus {
  return (requestStatuses as readonly string[]).includes(s);
}

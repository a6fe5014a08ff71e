// How a branch of a remote is named where one name must stand for it: the writers' in-process
// locks and the replicas' branch leases. The lease's value is hashed into a PostgreSQL advisory
// lock key, so replicas of different versions agree only while this format stays as it is.

/** `<url>#<branch>`: a branch of a remote. */
export function branchKey(url: string, branch: string): string {
  return `${url}#${branch}`;
}

/**
 * The shadow writer's lease covers the whole shadow repository (every `mr/…` branch and main):
 * it is named as if it were a branch `shadow`, the value replicas already agree on.
 */
export function shadowLeaseKey(url: string): string {
  return branchKey(url, "shadow");
}

// The branches of the shadow repository: main for merged updates and finished composes, one
// merge-request branch per Bodhi update.

/** The shadow repository's main branch: merged updates and finished composes. */
export const SHADOW_MAIN = "main";

/** The branch of an update's git-native merge request. */
export function mergeRequestBranch(alias: string): string {
  return `mr/${alias}`;
}

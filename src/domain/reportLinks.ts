// Where people read a broken-dependency report: the one place its page's address is made, for
// commit trailers, blocked reasons, mail, API answers and the pages' own links.

export const BROKEN_DEPS_REPORTS_PATH = "/reports/broken-deps";

export function brokenDepsReportPath(id: string): string {
  return `${BROKEN_DEPS_REPORTS_PATH}/${encodeURIComponent(id)}`;
}

/** The page's URL under RELENGD_PUBLIC_URL (a path when it is not set). */
export function brokenDepsReportUrl(publicUrl: string | undefined, id: string): string {
  return `${publicUrl ?? ""}${brokenDepsReportPath(id)}`;
}

export function brokenDepsReportPath(id: string): string { return `/reports/broken-deps/${encodeURIComponent(id)}`; }
export function brokenDepsReportUrl(publicUrl: string | undefined, id: string): string { return `${publicUrl ?? ""}${brokenDepsReportPath(id)}`; }

// Types of what scripts/check-sqlite-addon.mjs exports, for its test.
export declare const scenarios: string[];
export declare function headersVersion(addonPath: string): string | undefined;
export declare function judge(
  name: string,
  result: { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string },
  context: { nodeVersion: string; headers: string | undefined },
): string | undefined;

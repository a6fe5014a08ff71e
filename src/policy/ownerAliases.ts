// The owners of source packages for the broken-dependency report: the requests' facts
// (`packageAcls`) when requests are on, else a pagure_owner_alias.json-shaped file
// (RELENGD_OWNER_ALIASES), read again when it changes.
import { stat } from "node:fs/promises";
import type { PackageAcls } from "../domain/owners.js";
import { parseFactFile } from "../domain/requests/facts.js";
import { readJsonFile } from "./facts.js";

/** The owners now, or undefined when none are known (the report then groups every package under "no owner known"). */
export type OwnersSource = () => Promise<PackageAcls | undefined>;

/**
 * Owners from the facts first, else from `file`. A file that cannot be read or parsed is an
 * error the caller logs; the report goes on without owners.
 */
export function ownersSource(options: { facts?: () => PackageAcls | undefined; file?: string; maxBytes?: number; onError?: (err: Error) => void }): OwnersSource {
  let cached: { mtimeMs: number; acls: PackageAcls } | undefined;
  return async () => {
    const fromFacts = options.facts?.();
    if (fromFacts) return fromFacts;
    if (!options.file) return undefined;
    try {
      const { mtimeMs } = await stat(options.file);
      if (cached?.mtimeMs === mtimeMs) return cached.acls;
      // Bounded and UTF-8-checked like the facts files it stands in for.
      const parsed = parseFactFile("packageAcls", await readJsonFile(options.file, options.file, options.maxBytes));
      if (!parsed.ok) throw new Error(`${options.file}: ${parsed.error}`);
      cached = { mtimeMs, acls: parsed.value };
      return parsed.value;
    } catch (err) {
      options.onError?.(err as Error);
      return cached?.acls;
    }
  };
}

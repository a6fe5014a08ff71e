// The data dir and the SQLite database hold the token secret and every token's record: created for their owner only.
import { closeSync, mkdirSync, openSync } from "node:fs";

/** Mode of a directory relengd creates for its data (the data dir, the database's folder). */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of a file relengd creates there (the token secret, the SQLite database). */
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and missing parents) 0700; an existing directory keeps the mode its owner gave it. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Creates the SQLite database file empty and 0600 before SQLite opens it (SQLite takes an empty
 * file as an empty database). SQLite would create it 0644, and it gives the -wal and -shm files
 * the mode of the database file, so they are 0600 too.
 */
export function ensurePrivateDatabaseFile(file: string): void {
  closeSync(openSync(file, "a", PRIVATE_FILE_MODE));
}

// What a failed store statement says about the rows, read from the driver's own error on either database.

/**
 * Whether `err` is a unique or primary key violation: another transaction stored the same key
 * first (PostgreSQL SQLSTATE 23505; SQLite's extended codes from better-sqlite3). Statements
 * that expect such a race say ON CONFLICT instead; this is for writes made by code that cannot.
 */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

// Row counts for tests' assertions about what the store holds, on either database.
import { sql } from "kysely";
import type { DB, Store } from "../../src/store/store.js";

/** Rows of `table`, or of those whose `column` is one of `values`. */
export async function countRows(store: Store, table: keyof DB, where?: { column: string; in: readonly (string | number)[] }): Promise<number> {
  if (where && where.in.length === 0) return 0;
  const filter = where ? sql`WHERE ${sql.ref(where.column)} IN (${sql.join(where.in)})` : sql``;
  const { rows } = await store.read((tx) => sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)} ${filter}`.execute(tx));
  return rows[0]?.n ?? 0;
}

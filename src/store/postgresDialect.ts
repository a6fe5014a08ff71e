// The PostgreSQL connections of the store, returning SQLite's column forms.
//
// The store's table types are generated once, from the SQLite schema: DateTime as ISO text
// with an offset, Boolean as 0/1, counts as numbers. Here pg is told to return those forms
// (per pool, not pg's global parsers), and it takes them as bind values (PostgreSQL reads '1'
// and '0' as booleans and ignores the +00:00 of a timestamp without time zone, which relengd
// only ever writes in UTC). So a row reads the same on both databases.
import pg from "pg";
import { pgSearchPathOption, type DatabaseTarget } from "./databaseUrl.js";

const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;
const BOOL = 16;
const INT8 = 20;
const NUMERIC = 1700;

/** "2026-12-06 18:00:00.12" (timestamp(3) without time zone, in UTC) as "2026-12-06T18:00:00.120+00:00". */
export function isoFromPgTimestamp(text: string): string {
  // timestamptz text ends in "+01" or "+05:30"; Date wants the minutes.
  const iso = text.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00");
  const date = new Date(/[+-]\d\d:\d\d$|Z$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(date.getTime())) throw new Error(`PostgreSQL returned a timestamp relengd cannot read: ${text}`);
  return date.toISOString().replace("Z", "+00:00");
}

function typeParser(oid: number, format?: string): ((text: string) => unknown) | ((value: Buffer) => unknown) {
  if (format === "binary") return pg.types.getTypeParser(oid, "binary") as (value: Buffer) => unknown;
  switch (oid) {
    case TIMESTAMP:
    case TIMESTAMPTZ:
      return isoFromPgTimestamp;
    case BOOL:
      return (text: string) => (text === "t" ? 1 : 0);
    case INT8:
    case NUMERIC:
      // Counts and sums: well inside a double for any store relengd keeps.
      return Number;
    default:
      return pg.types.getTypeParser(oid, "text") as (text: string) => unknown;
  }
}

export function postgresPool(target: DatabaseTarget, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: target.location,
    options: pgSearchPathOption(target.schema),
    max,
    types: { getTypeParser: typeParser as typeof pg.types.getTypeParser },
  });
  // A connection the server closes (a restart, a failover) emits 'error': on the pool while it
  // is idle, on the client itself while a transaction holds it. Unheard, either ends the
  // process. The query that meets the outage fails (answered 503); the pool drops the broken
  // connection when it comes back and the next query opens a new one.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
  return pool;
}

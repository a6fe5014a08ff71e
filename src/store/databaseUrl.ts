// Where the store lives: the database URL's scheme chooses SQLite or PostgreSQL.
import path from "node:path";

export type Provider = "sqlite" | "postgresql";

export interface DatabaseTarget {
  provider: Provider;
  /** SQLite: absolute file path. PostgreSQL: connection string without relengd's own params. */
  location: string;
  /** PostgreSQL schema (the `schema` URL parameter, as Prisma spells it); default "public". */
  schema: string;
}

export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith("file:")) {
    const file = url.slice("file:".length).replace(/^\/\/(?=\/)/, "");
    if (!file) throw new Error("database URL file: needs a path, e.g. file:./data/relengd.db");
    return { provider: "sqlite", location: path.resolve(file), schema: "main" };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const u = new URL(url);
    const schema = u.searchParams.get("schema") ?? "public";
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`database URL: schema "${schema}" is not a plain identifier`);
    u.searchParams.delete("schema");
    return { provider: "postgresql", location: u.toString(), schema };
  }
  throw new Error("database URL must start with file: (SQLite) or postgresql:// (PostgreSQL)");
}

/** The pg session option that puts every unqualified name in the configured schema. */
export function pgSearchPathOption(schema: string): string {
  return `-c search_path="${schema}"`;
}

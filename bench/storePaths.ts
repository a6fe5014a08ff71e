// The candidate ways from the store to its database, each running the same three workloads
// (bench/store-paths.ts times them): Prisma Client's model API, the SQL runner with hand-written
// SQL, Kysely's compiled queries sent through Prisma's connection, and Kysely on the driver
// connections of its own.
import BetterSqlite3 from "better-sqlite3";
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteDialect,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type Compilable,
  type Dialect,
  type Selectable,
} from "kysely";
import pg from "pg";
import { pgSearchPathOption, sqlTimestamp, SQLITE_BUSY_TIMEOUT_MS, type Database, type Provider, type Tx } from "../src/store/database.js";
import { sqlRunnerOf, valuesList, type SqlTx, type SqlValue } from "../src/store/sql.js";
import { fileSync, WalSync } from "../src/store/walSync.js";
import type { Artifact, DB } from "./generated/storeTables.js";

export interface ArtifactInput {
  id: string;
  package: string;
  release: string;
  sourceRepo: string;
  sourceSha: string;
  sourceBranch: string;
  sourceEvent: string;
  createdAt: Date;
  bodyHash: string;
  body: string;
  builds: { nvr: string; name: string }[];
}

export type ArtifactRow = Selectable<Artifact>;

/** One way to the database: the three workloads, each one operation. */
export interface StorePath {
  readonly key: string;
  readonly title: string;
  /** (a) one transaction: the artifact, its builds, and the artifact read back by id. */
  ingest(artifact: ArtifactInput): Promise<ArtifactRow>;
  /** (b) the newest LIST_PAGE artifacts of a package. */
  list(pkg: string): Promise<ArtifactRow[]>;
  /** (c) one transaction updating a release's status by id; resolves to the rows changed. */
  setStatus(id: string, status: string, at: Date): Promise<number>;
  close(): Promise<void>;
}

export const LIST_PAGE = 50;

const ARTIFACT_COLUMNS = `"seq", "id", "package", "release", "sourceRepo", "sourceSha", "sourceBranch", "sourceEvent", "createdAt", "bodyHash", "body"`;

/** How a path binds a DateTime. */
type Stamp = (date: Date) => Date | string;

/** What the store's raw SQL binds for a DateTime through Prisma or the runner. */
const storeStamp =
  (provider: Provider): Stamp =>
  (d) =>
    sqlTimestamp(provider, d);

function artifactValues(a: ArtifactInput, stamp: Stamp) {
  return {
    id: a.id,
    package: a.package,
    release: a.release,
    sourceRepo: a.sourceRepo,
    sourceSha: a.sourceSha,
    sourceBranch: a.sourceBranch,
    sourceEvent: a.sourceEvent,
    createdAt: stamp(a.createdAt),
    bodyHash: a.bodyHash,
    body: a.body,
  };
}

function found<T>(row: T | undefined | null, id: string): T {
  if (!row) throw new Error(`artifact ${id} was not read back in its own transaction`);
  return row;
}

/** (1) Prisma Client's model API on the store's client, as most of the store runs today. */
export function prismaModelPath(db: Database): StorePath {
  const prisma = db.prisma;
  return {
    key: "1",
    title: "Prisma Client model API",
    async ingest(a) {
      return prisma.$transaction(async (tx) => {
        const { builds, ...fields } = a;
        await tx.artifact.create({ data: fields, select: { seq: true } });
        await tx.artifactBuild.createMany({ data: builds.map((b) => ({ artifactId: a.id, ...b })) });
        return found(await tx.artifact.findUnique({ where: { id: a.id } }), a.id);
      });
    },
    list: (pkg) => prisma.artifact.findMany({ where: { package: pkg }, orderBy: { seq: "desc" }, take: LIST_PAGE }),
    async setStatus(id, status, at) {
      const { count } = await prisma.$transaction((tx) => tx.release.updateMany({ where: { id }, data: { status, updatedAt: at } }));
      return count;
    },
    close: () => Promise.resolve(),
  };
}

/** (2) The store's SQL runner (sql.ts) with hand-written SQL: today's fast path. */
export function sqlRunnerPath(db: Database): StorePath {
  const runner = sqlRunnerOf(db.prisma);
  const provider = db.target.provider;
  return {
    key: "2",
    title: "SQL runner, hand-written SQL",
    ingest(a) {
      return runner.transaction(async (tx) => {
        const v = artifactValues(a, storeStamp(provider));
        await tx.run(
          `INSERT INTO "Artifact" ("id", "package", "release", "sourceRepo", "sourceSha", "sourceBranch", "sourceEvent", "createdAt", "bodyHash", "body") VALUES ${valuesList(1, 10)}`,
          [v.id, v.package, v.release, v.sourceRepo, v.sourceSha, v.sourceBranch, v.sourceEvent, v.createdAt, v.bodyHash, v.body],
        );
        await tx.run(
          `INSERT INTO "ArtifactBuild" ("artifactId", "nvr", "name") VALUES ${valuesList(a.builds.length, 3)}`,
          a.builds.flatMap((b): SqlValue[] => [a.id, b.nvr, b.name]),
        );
        const [row] = await tx.all<ArtifactRow>(`SELECT ${ARTIFACT_COLUMNS} FROM "Artifact" WHERE "id" = ?`, [a.id]);
        return found(row, a.id);
      });
    },
    list: (pkg) => runner.read((tx) => tx.all<ArtifactRow>(`SELECT ${ARTIFACT_COLUMNS} FROM "Artifact" WHERE "package" = ? ORDER BY "seq" DESC LIMIT ?`, [pkg, LIST_PAGE])),
    setStatus: (id, status, at) =>
      runner.transaction((tx) => tx.run(`UPDATE "Release" SET "status" = ?, "updatedAt" = ? WHERE "id" = ?`, [status, sqlTimestamp(provider, at), id])),
    close: () => Promise.resolve(),
  };
}

/** A Kysely that only compiles: its queries are run by whoever takes the compiled SQL. */
export function compilingKysely(provider: Provider): Kysely<DB> {
  const dialect: Dialect =
    provider === "sqlite"
      ? {
          createAdapter: () => new SqliteAdapter(),
          createDriver: () => new DummyDriver(),
          createIntrospector: (k) => new SqliteIntrospector(k),
          createQueryCompiler: () => new SqliteQueryCompiler(),
        }
      : {
          createAdapter: () => new PostgresAdapter(),
          createDriver: () => new DummyDriver(),
          createIntrospector: (k) => new PostgresIntrospector(k),
          createQueryCompiler: () => new PostgresQueryCompiler(),
        };
  return new Kysely<DB>({ dialect });
}

type RawClient = Pick<Tx, "$queryRawUnsafe" | "$executeRawUnsafe">;

/** The rows of a compiled Kysely query, run as a raw statement of the Prisma client (or transaction). */
export function rowsThroughPrisma<Row>(client: RawClient, query: Compilable<Row>): Promise<Row[]> {
  const { sql, parameters } = query.compile();
  return client.$queryRawUnsafe<Row[]>(sql, ...parameters);
}

/** Runs a compiled Kysely statement through the Prisma client (or transaction); resolves to the rows changed. */
export function runThroughPrisma(client: RawClient, query: Compilable<unknown>): Promise<number> {
  const { sql, parameters } = query.compile();
  return client.$executeRawUnsafe(sql, ...parameters);
}

/** (3) Kysely builds and compiles; Prisma's connection and interactive transactions run it. */
export function kyselyThroughPrismaPath(db: Database): StorePath {
  const prisma = db.prisma;
  const provider = db.target.provider;
  const k = compilingKysely(provider);
  return {
    key: "3",
    title: "Kysely compiled, run through Prisma ($queryRawUnsafe)",
    ingest(a) {
      return prisma.$transaction(async (tx) => {
        await runThroughPrisma(tx, k.insertInto("Artifact").values(artifactValues(a, storeStamp(provider))));
        await runThroughPrisma(tx, k.insertInto("ArtifactBuild").values(a.builds.map((b) => ({ artifactId: a.id, ...b }))));
        const [row] = await rowsThroughPrisma(tx, k.selectFrom("Artifact").selectAll().where("id", "=", a.id));
        return found(row, a.id);
      });
    },
    list: (pkg) => rowsThroughPrisma(prisma, k.selectFrom("Artifact").selectAll().where("package", "=", pkg).orderBy("seq", "desc").limit(LIST_PAGE)),
    setStatus: (id, status, at) =>
      prisma.$transaction((tx) => runThroughPrisma(tx, k.updateTable("Release").set({ status, updatedAt: sqlTimestamp(provider, at) }).where("id", "=", id))),
    close: () => Promise.resolve(),
  };
}

/**
 * (2k) Kysely builds and compiles; the SQL runner runs it (its lock, statement cache and log
 * sync on SQLite). Not one of the four candidates as asked: against (2) it is the builder's own
 * cost, since the runner runs both.
 */
export function kyselyThroughRunnerPath(db: Database): StorePath {
  const runner = sqlRunnerOf(db.prisma);
  const provider = db.target.provider;
  const k = compilingKysely(provider);
  const rows = <Row>(tx: SqlTx, query: Compilable<Row>) => {
    const { sql, parameters } = query.compile();
    return tx.all<Row>(sql, parameters as SqlValue[]);
  };
  const run = (tx: SqlTx, query: Compilable<unknown>) => {
    const { sql, parameters } = query.compile();
    return tx.run(sql, parameters as SqlValue[]);
  };
  return {
    key: "2k",
    title: "Kysely compiled, run by the SQL runner",
    ingest(a) {
      return runner.transaction(async (tx) => {
        await run(tx, k.insertInto("Artifact").values(artifactValues(a, storeStamp(provider))));
        await run(tx, k.insertInto("ArtifactBuild").values(a.builds.map((b) => ({ artifactId: a.id, ...b }))));
        const [row] = await rows(tx, k.selectFrom("Artifact").selectAll().where("id", "=", a.id));
        return found(row, a.id);
      });
    },
    list: (pkg) => runner.read((tx) => rows(tx, k.selectFrom("Artifact").selectAll().where("package", "=", pkg).orderBy("seq", "desc").limit(LIST_PAGE))),
    setStatus: (id, status, at) =>
      runner.transaction((tx) => run(tx, k.updateTable("Release").set({ status, updatedAt: sqlTimestamp(provider, at) }).where("id", "=", id))),
    close: () => Promise.resolve(),
  };
}

function kyselyPath(key: string, title: string, stamp: Stamp, k: Kysely<DB>, afterWrite: () => Promise<void>, close: () => Promise<void>): StorePath {
  return {
    key,
    title,
    async ingest(a) {
      const row = await k.transaction().execute(async (trx) => {
        await trx.insertInto("Artifact").values(artifactValues(a, stamp)).execute();
        await trx
          .insertInto("ArtifactBuild")
          .values(a.builds.map((b) => ({ artifactId: a.id, ...b })))
          .execute();
        return found(await trx.selectFrom("Artifact").selectAll().where("id", "=", a.id).executeTakeFirst(), a.id);
      });
      await afterWrite();
      return row;
    },
    list: (pkg) => k.selectFrom("Artifact").selectAll().where("package", "=", pkg).orderBy("seq", "desc").limit(LIST_PAGE).execute(),
    async setStatus(id, status, at) {
      const result = await k
        .transaction()
        .execute((trx) => trx.updateTable("Release").set({ status, updatedAt: stamp(at) }).where("id", "=", id).executeTakeFirstOrThrow());
      await afterWrite();
      return Number(result.numUpdatedRows);
    },
    close,
  };
}

/**
 * (4) Kysely on a better-sqlite3 connection of its own, opened as database.ts opens Prisma's:
 * WAL, synchronous=FULL (every commit fsyncs on the event loop's thread), foreign keys on.
 * Kysely's transactions begin with a deferred BEGIN; the bench has no second writer, so it
 * costs what BEGIN IMMEDIATE would.
 */
export function kyselySqlitePath(file: string): StorePath {
  const conn = new BetterSqlite3(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  conn.pragma("journal_mode = WAL");
  conn.pragma("synchronous = FULL");
  conn.pragma("foreign_keys = ON");
  const k = new Kysely<DB>({ dialect: new SqliteDialect({ database: conn }) });
  return kyselyPath("4", "Kysely on better-sqlite3 (synchronous=FULL)", storeStamp("sqlite"), k, () => Promise.resolve(), () => k.destroy());
}

/**
 * (4w) The same, committing as the SQL runner does on SQLite: synchronous=NORMAL, and each
 * write answered after an fdatasync of the log on libuv's thread pool (walSync.ts), which is as
 * durable as FULL without blocking the event loop. Not one of the four candidates as asked:
 * it shows what path 4 costs once it keeps the runner's commit.
 */
export function kyselySqliteWalSyncPath(file: string): StorePath {
  const conn = new BetterSqlite3(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  conn.pragma("journal_mode = WAL");
  conn.pragma("synchronous = NORMAL");
  conn.pragma("foreign_keys = ON");
  const walSync = new WalSync(fileSync(`${file}-wal`));
  const k = new Kysely<DB>({ dialect: new SqliteDialect({ database: conn }) });
  return kyselyPath("4w", "Kysely on better-sqlite3, log synced off-thread", storeStamp("sqlite"), k, () => walSync.afterCommit(), () => k.destroy());
}

/** The pg type id of `timestamp without time zone`, the column type of Prisma's DateTime on PostgreSQL. */
const PG_TIMESTAMP = 1114;

/**
 * (4) Kysely on a pg Pool of its own (10 connections, as PrismaPg's) in the store's schema.
 * Prisma's DateTime is `timestamp(3)` without time zone holding UTC, and pg reads and binds a
 * Date in the process's local zone: the pool reads those columns as UTC, and DateTimes are bound
 * as ISO text (PostgreSQL ignores the zone of a literal cast to timestamp without time zone).
 */
export function kyselyPostgresPath(location: string, schema: string): StorePath {
  const pool = new pg.Pool({
    connectionString: location,
    options: pgSearchPathOption(schema),
    max: 10,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === PG_TIMESTAMP && format !== "binary" ? (value: string) => new Date(`${value.replace(" ", "T")}Z`) : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
    },
  });
  const k = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return kyselyPath("4", "Kysely on a pg Pool", (d) => d.toISOString(), k, () => Promise.resolve(), () => k.destroy());
}

/** Every path the bench times on the database's provider, in the order it reports them. */
export function candidatePaths(db: Database): StorePath[] {
  const { provider, location, schema } = db.target;
  const common = [prismaModelPath(db), sqlRunnerPath(db), kyselyThroughPrismaPath(db)];
  return provider === "sqlite"
    ? [...common, kyselySqlitePath(location), kyselySqliteWalSyncPath(location), kyselyThroughRunnerPath(db)]
    : [...common, kyselyPostgresPath(location, schema)];
}

// Artifacts and their appended results in the store: batched ingest, keyset-paginated queries.
import {
  digestOfRendered,
  kojiBuilds,
  parseNvrName,
  readStoredArtifact,
  renderArtifact,
  resultKey,
  type Artifact,
  type CiResultItem,
  type SourceEvent,
} from "../domain/artifact.js";
import { replaces } from "../domain/gating.js";
import { sql, type Insertable, type QueryCreator, type Selectable } from "kysely";
import type { Artifact as ArtifactRow, ArtifactBuild, ArtifactResult, DB } from "./generated/kysely/types.js";
import { GroupCommit } from "./groupCommit.js";
import { chunksFor, fromStamp, MAX_BIND_PARAMETERS, stamp, type Store, type Tx } from "./store.js";

export interface StoredResult extends CiResultItem {
  createdAt: Date;
  updatedAt: Date;
}

export interface StoredArtifact {
  artifact: Artifact;
  digest: string;
  createdAt: Date;
  results: StoredResult[];
}

export type IngestOutcome =
  | { status: "created"; id: string; digest: string; createdAt: Date }
  | { status: "unchanged"; id: string; digest: string; createdAt: Date }
  | { status: "conflict"; id: string; digest: string; existingDigest: string };

export interface ArtifactQuery {
  package?: string;
  release?: string;
  nvr?: string;
  sha?: string;
  branch?: string;
  event?: SourceEvent;
  since?: Date;
  until?: Date;
  limit: number;
  cursor?: string;
}

export interface ArtifactPage {
  items: StoredArtifact[];
  nextCursor: string | null;
}

export type AppendOutcome =
  | { status: "not-found" }
  | { status: "too-many"; limit: number }
  | {
      status: "appended";
      added: number;
      updated: number;
      unchanged: number;
      /** Older, by their own time, than the outcome already recorded for their (testcase, refUrl): not applied. */
      stale: number;
      results: StoredResult[];
    };

export class InvalidCursorError extends Error {}

/** What storing a batch did: an outcome per artifact, in order, and the artifacts it created. */
export interface InsertedBatch {
  outcomes: IngestOutcome[];
  created: Artifact[];
}

const CURSOR_PREFIX = "s";

export function encodeCursor(seq: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${seq}`).toString("base64url");
}

export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, "base64url").toString();
  const m = /^s([0-9]{1,15})$/.exec(text);
  if (!m) throw new InvalidCursorError("cursor is not one this server issued");
  return Number(m[1]);
}

/** Columns one artifact row binds in the ingest insert, and one build row. */
const ARTIFACT_COLUMNS = 10;
const BUILD_COLUMNS = 3;

function toStoredResult(row: Selectable<ArtifactResult>): StoredResult {
  return {
    kind: "ci-result",
    testcase: row.testcase,
    outcome: row.outcome as CiResultItem["outcome"],
    ...(row.refUrl ? { refUrl: row.refUrl } : {}),
    ...(row.scenario !== null ? { scenario: row.scenario } : {}),
    ...(row.note !== null ? { note: row.note } : {}),
    ...(row.submittedAt !== null ? { submittedAt: fromStamp(row.submittedAt).toISOString() } : {}),
    createdAt: fromStamp(row.createdAt),
    updatedAt: fromStamp(row.updatedAt),
  };
}

type NewArtifactRow = Insertable<ArtifactRow>;
type NewBuildRow = Insertable<ArtifactBuild>;

/** `(values (?, ?, ?), …) as "alias"("a", "b", "c")`: rows as a table one statement reads. */
function valuesTable<R extends Record<string, unknown>, A extends string>(records: readonly R[], alias: A) {
  const keys = Object.keys(records[0] ?? {});
  const rows = sql.join(records.map((r) => sql`(${sql.join(keys.map((k) => r[k]))})`));
  return sql<R>`(values ${rows})`.as<A>(sql`${sql.ref(alias)}(${sql.join(keys.map((k) => sql.ref(k)))})`);
}

/**
 * PostgreSQL: the artifacts whose id is not stored yet, with their builds, in one statement per
 * chunk: the artifacts' insert (ON CONFLICT DO NOTHING) a data-modifying WITH of the builds'
 * insert, which takes only the builds of the artifacts it returns. So a push batch pays one
 * round trip for the lookup and both inserts, and a concurrent batch storing the same id
 * waits for it and skips it instead of failing. Each chunk holds whole artifacts with their
 * builds, within the bind limit. Returns the ids it stored.
 */
async function insertNewTogether(tx: Tx, rows: readonly NewArtifactRow[], builds: readonly NewBuildRow[]): Promise<Set<string>> {
  const stored = new Set<string>();
  const buildsOf = new Map<string, NewBuildRow[]>();
  for (const b of builds) {
    const own = buildsOf.get(b.artifactId);
    if (own) own.push(b);
    else buildsOf.set(b.artifactId, [b]);
  }
  let chunk: { rows: NewArtifactRow[]; builds: NewBuildRow[]; binds: number } = { rows: [], builds: [], binds: 0 };
  const flush = async () => {
    const { rows: artifacts, builds: theirs } = chunk;
    chunk = { rows: [], builds: [], binds: 0 };
    if (artifacts.length === 0) return;
    const insertNew = (db: QueryCreator<DB>) =>
      db
        .insertInto("Artifact")
        .values(artifacts)
        .onConflict((oc) => oc.column("id").doNothing())
        .returning("id");
    const returned =
      theirs.length === 0
        ? await insertNew(tx).execute()
        : await tx
            .with("stored", insertNew)
            .with("builds", (db) =>
              db
                .insertInto("ArtifactBuild")
                .columns(["artifactId", "nvr", "name"])
                .expression((eb) => eb.selectFrom(valuesTable(theirs, "b")).innerJoin("stored", "stored.id", "b.artifactId").select(["b.artifactId", "b.nvr", "b.name"])),
            )
            .selectFrom("stored")
            .select("id")
            .execute();
    for (const r of returned) stored.add(r.id);
  };
  for (const row of rows) {
    const own = buildsOf.get(row.id) ?? [];
    const binds = ARTIFACT_COLUMNS + BUILD_COLUMNS * own.length;
    if (chunk.binds + binds > MAX_BIND_PARAMETERS) await flush();
    if (binds > MAX_BIND_PARAMETERS) {
      // More builds than one statement binds (an artifact may carry hundreds): on their own.
      const inserted = await tx
        .insertInto("Artifact")
        .values(row)
        .onConflict((oc) => oc.column("id").doNothing())
        .returning("id")
        .executeTakeFirst();
      if (!inserted) continue;
      stored.add(inserted.id);
      for (const part of chunksFor(own, BUILD_COLUMNS)) await tx.insertInto("ArtifactBuild").values(part).execute();
      continue;
    }
    chunk.rows.push(row);
    chunk.builds.push(...own);
    chunk.binds += binds;
  }
  await flush();
  return stored;
}

/** The digest and time of those of `ids` already stored. */
async function storedDigests(tx: Tx, ids: readonly string[]): Promise<Map<string, { digest: string; createdAt: Date }>> {
  const known = new Map<string, { digest: string; createdAt: Date }>();
  for (const chunk of chunksFor([...new Set(ids)], 1)) {
    const rows = await tx.selectFrom("Artifact").select(["id", "bodyHash", "createdAt"]).where("id", "in", chunk).execute();
    for (const e of rows) known.set(e.id, { digest: e.bodyHash, createdAt: fromStamp(e.createdAt) });
  }
  return known;
}

/** The results of these artifacts, each artifact's in the order they were first stored. */
async function resultsOf(tx: Tx, ids: readonly string[]): Promise<Map<string, StoredResult[]>> {
  const out = new Map<string, StoredResult[]>();
  for (const chunk of chunksFor([...new Set(ids)], 1)) {
    const rows = await tx.selectFrom("ArtifactResult").selectAll().where("artifactId", "in", chunk).orderBy("id", "asc").execute();
    for (const r of rows) out.set(r.artifactId, [...(out.get(r.artifactId) ?? []), toStoredResult(r)]);
  }
  return out;
}

export class ArtifactRepository {
  private readonly ingestQueue: GroupCommit<Artifact, IngestOutcome>;

  constructor(
    private readonly store: Store,
    options: { maxBatch?: number } = {},
  ) {
    this.ingestQueue = new GroupCommit(async (batch) => (await this.store.transaction((tx) => this.insertIn(tx, batch))).outcomes, options.maxBatch ?? 256);
  }

  /**
   * Stores an artifact, and nothing else: no policy looks at it (a push is stored with its
   * decisions by the push flow). Resolves once it is committed (group-committed with
   * concurrent calls).
   */
  ingest(artifact: Artifact): Promise<IngestOutcome> {
    return this.ingestQueue.submit(artifact);
  }

  /**
   * Stores a batch of artifacts inside the caller's transaction: those whose id is new are
   * inserted with their builds; one stored under the same id is unchanged (same body) or a
   * conflict. Multi-row statements: this is the ingest hot path.
   */
  async insertIn(tx: Tx, batch: readonly Artifact[]): Promise<InsertedBatch> {
    const now = new Date();
    const createdAt = stamp(now);
    const rendered = batch.map((artifact) => {
      const body = renderArtifact(artifact);
      return { artifact, body, digest: digestOfRendered(body) };
    });
    // Each id is stored as the batch first gives it; a later copy answers against that one.
    const first = new Map<string, (typeof rendered)[number]>();
    for (const r of rendered) if (!first.has(r.artifact.id)) first.set(r.artifact.id, r);
    const rowsOf = (candidates: Iterable<(typeof rendered)[number]>) => {
      const rows: NewArtifactRow[] = [];
      const builds: NewBuildRow[] = [];
      for (const { artifact, body, digest } of candidates) {
        const s = artifact.source;
        rows.push({ id: artifact.id, package: artifact.package, release: artifact.release, sourceRepo: s.repo, sourceSha: s.sha, sourceBranch: s.branch ?? null, sourceEvent: s.event, createdAt, bodyHash: digest, body });
        for (const b of kojiBuilds(artifact)) builds.push({ artifactId: artifact.id, nvr: b.nvr, name: parseNvrName(b.nvr) });
      }
      return { rows, builds };
    };
    let stored: Set<string>;
    let known: Map<string, { digest: string; createdAt: Date }>;
    if (this.store.provider === "postgresql") {
      // Inserted where new, in one round trip; only the ids that were not new are read. In id
      // order: concurrent batches carrying the same ids then wait for each other in one order,
      // never in a cycle (a deadlock would fail both batches back to one push at a time).
      const { rows, builds } = rowsOf([...first.values()].sort((a, b) => (a.artifact.id < b.artifact.id ? -1 : a.artifact.id > b.artifact.id ? 1 : 0)));
      stored = await insertNewTogether(tx, rows, builds);
      known = await storedDigests(
        tx,
        [...first.keys()].filter((id) => !stored.has(id)),
      );
    } else {
      // SQLite: a statement costs no round trip; read first, insert what is new.
      known = await storedDigests(tx, [...first.keys()]);
      const { rows, builds } = rowsOf([...first.values()].filter((r) => !known.has(r.artifact.id)));
      for (const chunk of chunksFor(rows, ARTIFACT_COLUMNS)) await tx.insertInto("Artifact").values(chunk).execute();
      for (const chunk of chunksFor(builds, BUILD_COLUMNS)) await tx.insertInto("ArtifactBuild").values(chunk).execute();
      stored = new Set(rows.map((r) => r.id));
    }
    const outcomes: IngestOutcome[] = [];
    const created: Artifact[] = [];
    for (const r of rendered) {
      const { artifact, digest } = r;
      const firstCopy = first.get(artifact.id);
      if (stored.has(artifact.id) && firstCopy === r) {
        outcomes.push({ status: "created", id: artifact.id, digest, createdAt: now });
        created.push(artifact);
        continue;
      }
      const prior = stored.has(artifact.id) ? { digest: (firstCopy as (typeof rendered)[number]).digest, createdAt: now } : known.get(artifact.id);
      // Not stored by this batch: its row was there already (or a concurrent batch's committed first).
      if (!prior) throw new Error(`artifact ${artifact.id} was neither stored nor found`);
      outcomes.push(
        prior.digest === digest
          ? { status: "unchanged", id: artifact.id, digest, createdAt: prior.createdAt }
          : { status: "conflict", id: artifact.id, digest, existingDigest: prior.digest },
      );
    }
    return { outcomes, created };
  }

  /** The stored artifacts among `ids` (missing ones are absent from the map). */
  async getMany(ids: string[]): Promise<Map<string, Artifact>> {
    const out = new Map<string, Artifact>();
    // A writer batch names up to RELENGD_WRITER_BATCH_SIZE artifacts: cut under the bind limit.
    await this.store.read(async (tx) => {
      for (const chunk of chunksFor([...new Set(ids)], 1)) {
        const rows = await tx.selectFrom("Artifact").select(["id", "body"]).where("id", "in", chunk).execute();
        for (const r of rows) out.set(r.id, readStoredArtifact(r.body));
      }
    });
    return out;
  }

  async packageOf(id: string): Promise<string | null> {
    const row = await this.store.read((tx) => tx.selectFrom("Artifact").select("package").where("id", "=", id).executeTakeFirst());
    return row?.package ?? null;
  }

  async get(id: string): Promise<StoredArtifact | null> {
    return this.store.read(async (tx) => {
      const row = await tx.selectFrom("Artifact").select(["body", "bodyHash", "createdAt"]).where("id", "=", id).executeTakeFirst();
      if (!row) return null;
      const results = (await resultsOf(tx, [id])).get(id) ?? [];
      return { artifact: readStoredArtifact(row.body), digest: row.bodyHash, createdAt: fromStamp(row.createdAt), results };
    });
  }

  async list(query: ArtifactQuery): Promise<ArtifactPage> {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    return this.store.read(async (tx) => {
      const rows = await tx
        .selectFrom("Artifact")
        .select(["id", "seq", "body", "bodyHash", "createdAt"])
        // Through the builds' NVR index: an NVR may be carried by more artifacts than one
        // statement binds, so the database finds them.
        .$if(query.nvr !== undefined, (w) => w.where("id", "in", (eb) => eb.selectFrom("ArtifactBuild").select("artifactId").where("nvr", "=", query.nvr as string)))
        .$if(query.package !== undefined, (w) => w.where("package", "=", query.package as string))
        .$if(query.release !== undefined, (w) => w.where("release", "=", query.release as string))
        .$if(query.sha !== undefined, (w) => w.where("sourceSha", "=", query.sha as string))
        .$if(query.branch !== undefined, (w) => w.where("sourceBranch", "=", query.branch as string))
        .$if(query.event !== undefined, (w) => w.where("sourceEvent", "=", query.event as string))
        .$if(query.since !== undefined, (w) => w.where("createdAt", ">=", stamp(query.since as Date)))
        .$if(query.until !== undefined, (w) => w.where("createdAt", "<", stamp(query.until as Date)))
        .$if(cursor !== undefined, (w) => w.where("seq", "<", cursor as number))
        .orderBy("seq", "desc")
        .limit(query.limit + 1)
        .execute();
      const page = rows.slice(0, query.limit);
      const results = await resultsOf(
        tx,
        page.map((r) => r.id),
      );
      const last = page.at(-1);
      return {
        items: page.map((row) => ({ artifact: readStoredArtifact(row.body), digest: row.bodyHash, createdAt: fromStamp(row.createdAt), results: results.get(row.id) ?? [] })),
        nextCursor: rows.length > query.limit && last ? encodeCursor(last.seq) : null,
      };
    });
  }

  /**
   * Appends CI results; (testcase, refUrl) already present is updated, identical is a no-op, and
   * one older by its own time than the recorded outcome (a late redelivery) is not applied.
   */
  async appendResults(artifactId: string, results: CiResultItem[], limit: number): Promise<AppendOutcome> {
    // Within one request, as if they had been sent one after another.
    const byKey = new Map<string, CiResultItem>();
    for (const r of results) {
      const before = byKey.get(resultKey(r));
      if (!before || replaces(r, before)) byKey.set(resultKey(r), r);
    }
    return this.store.transaction(async (tx) => {
      const artifact = await tx.selectFrom("Artifact").select("id").where("id", "=", artifactId).executeTakeFirst();
      if (!artifact) return { status: "not-found" } as const;
      const existing = await tx.selectFrom("ArtifactResult").selectAll().where("artifactId", "=", artifactId).execute();
      const current = new Map(existing.map((r) => [resultKey({ testcase: r.testcase, refUrl: r.refUrl || undefined }), r]));
      const newKeys = [...byKey.keys()].filter((k) => !current.has(k));
      if (existing.length + newKeys.length > limit) return { status: "too-many", limit } as const;
      const now = new Date();
      const at = stamp(now);
      let added = 0;
      let updated = 0;
      let unchanged = 0;
      let stale = 0;
      // One statement per result: a request carries few.
      for (const [key, r] of byKey) {
        const prior = current.get(key);
        const fields = { outcome: r.outcome, scenario: r.scenario ?? null, note: r.note ?? null, submittedAt: r.submittedAt !== undefined ? stamp(new Date(r.submittedAt)) : null };
        if (!prior) {
          await tx
            .insertInto("ArtifactResult")
            .values({ artifactId, testcase: r.testcase, refUrl: r.refUrl ?? "", ...fields, createdAt: at, updatedAt: at })
            .execute();
          added++;
        } else if (!replaces({ ...r, receivedAt: now }, { ...toStoredResult(prior), receivedAt: fromStamp(prior.updatedAt) })) {
          stale++;
        } else if (
          prior.outcome !== fields.outcome ||
          prior.scenario !== fields.scenario ||
          prior.note !== fields.note ||
          (prior.submittedAt === null ? null : fromStamp(prior.submittedAt).getTime()) !== (fields.submittedAt === null ? null : fromStamp(fields.submittedAt).getTime())
        ) {
          await tx
            .updateTable("ArtifactResult")
            .set({ ...fields, updatedAt: at })
            .where("id", "=", prior.id)
            .execute();
          updated++;
        } else unchanged++;
      }
      const all = (await resultsOf(tx, [artifactId])).get(artifactId) ?? [];
      return { status: "appended", added, updated, unchanged, stale, results: all } as const;
    });
  }
}

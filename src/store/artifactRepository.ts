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
import { chunksFor, providerOf, sqlTimestamp, type Prisma, type Provider } from "./database.js";
import { GroupCommit } from "./groupCommit.js";
import { inList, sqlRunnerOf, valuesList, type SqlRunner, type SqlTx, type SqlValue } from "./sql.js";

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

export type AfterCreate = (tx: SqlTx, created: Artifact[]) => Promise<(() => void) | void>;

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

type ResultRow = {
  testcase: string;
  outcome: string;
  refUrl: string;
  scenario: string | null;
  note: string | null;
  submittedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

function toStoredResult(row: ResultRow): StoredResult {
  return {
    kind: "ci-result",
    testcase: row.testcase,
    outcome: row.outcome as CiResultItem["outcome"],
    ...(row.refUrl ? { refUrl: row.refUrl } : {}),
    ...(row.scenario !== null ? { scenario: row.scenario } : {}),
    ...(row.note !== null ? { note: row.note } : {}),
    ...(row.submittedAt !== null ? { submittedAt: row.submittedAt.toISOString() } : {}),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export class ArtifactRepository {
  private readonly ingestQueue: GroupCommit<Artifact, IngestOutcome>;
  private readonly provider: Provider;
  private readonly sql: SqlRunner;
  private readonly afterCreate: AfterCreate | undefined;

  constructor(
    private readonly prisma: Prisma,
    options: {
      maxBatch?: number;
      /**
       * Runs inside each ingest transaction with the artifacts it created (policy evaluation:
       * an artifact, the decisions about it and the releases they fire commit together). What
       * it returns runs after the commit (waking the writer).
       */
      afterCreate?: AfterCreate;
    } = {},
  ) {
    this.afterCreate = options.afterCreate;
    this.provider = providerOf(prisma);
    this.sql = sqlRunnerOf(prisma);
    this.ingestQueue = new GroupCommit((batch) => this.writeBatch(batch), options.maxBatch ?? 256);
  }

  /** Stores an artifact; resolves once it is committed (group-committed with concurrent calls). */
  ingest(artifact: Artifact): Promise<IngestOutcome> {
    return this.ingestQueue.submit(artifact);
  }

  /**
   * Writes one batch in one transaction with plain multi-row SQL: this is the ingest hot path,
   * and an ORM call per statement cost more than the commit itself.
   */
  private async writeBatch(batch: Artifact[]): Promise<IngestOutcome[]> {
    const now = new Date();
    const stamp = sqlTimestamp(this.provider, now);
    const after: { commit?: () => void } = {};
    const outcomes = await this.sql.transaction(async (tx) => {
      const ids = [...new Set(batch.map((a) => a.id))];
      const existing: { id: string; bodyHash: string; createdAt: Date | string }[] = [];
      for (const chunk of chunksFor(ids, 1)) {
        existing.push(...(await tx.all<(typeof existing)[number]>(`SELECT "id", "bodyHash", "createdAt" FROM "Artifact" WHERE "id" IN (${inList(chunk.length)})`, chunk)));
      }
      const known = new Map(existing.map((e) => [e.id, { digest: e.bodyHash, createdAt: new Date(e.createdAt) }]));
      const outcomes: IngestOutcome[] = [];
      const created: Artifact[] = [];
      const rows: SqlValue[][] = [];
      const builds: SqlValue[][] = [];
      for (const artifact of batch) {
        const body = renderArtifact(artifact);
        const digest = digestOfRendered(body);
        const prior = known.get(artifact.id);
        if (prior) {
          outcomes.push(
            prior.digest === digest
              ? { status: "unchanged", id: artifact.id, digest, createdAt: prior.createdAt }
              : { status: "conflict", id: artifact.id, digest, existingDigest: prior.digest },
          );
          continue;
        }
        known.set(artifact.id, { digest, createdAt: now });
        const s = artifact.source;
        rows.push([artifact.id, artifact.package, artifact.release, s.repo, s.sha, s.branch ?? null, s.event, stamp, digest, body]);
        for (const b of kojiBuilds(artifact)) builds.push([artifact.id, b.nvr, parseNvrName(b.nvr)]);
        outcomes.push({ status: "created", id: artifact.id, digest, createdAt: now });
        created.push(artifact);
      }
      for (const chunk of chunksFor(rows, 10)) {
        await tx.run(
          `INSERT INTO "Artifact" ("id", "package", "release", "sourceRepo", "sourceSha", "sourceBranch", "sourceEvent", "createdAt", "bodyHash", "body") VALUES ${valuesList(chunk.length, 10)}`,
          chunk.flat(),
        );
      }
      for (const chunk of chunksFor(builds, 3)) {
        await tx.run(`INSERT INTO "ArtifactBuild" ("artifactId", "nvr", "name") VALUES ${valuesList(chunk.length, 3)}`, chunk.flat());
      }
      if (this.afterCreate && created.length > 0) {
        const then = await this.afterCreate(tx, created);
        if (then) after.commit = then;
      }
      return outcomes;
    });
    after.commit?.();
    return outcomes;
  }

  /** The stored artifacts among `ids` (missing ones are absent from the map). */
  async getMany(ids: string[]): Promise<Map<string, Artifact>> {
    const out = new Map<string, Artifact>();
    // A writer batch names up to RELENGD_WRITER_BATCH_SIZE artifacts: cut under the bind limit.
    await this.sql.read(async (tx) => {
      for (const chunk of chunksFor([...new Set(ids)], 1)) {
        const rows = await tx.all<{ id: string; body: string }>(`SELECT "id", "body" FROM "Artifact" WHERE "id" IN (${inList(chunk.length)})`, chunk);
        for (const r of rows) out.set(r.id, readStoredArtifact(r.body));
      }
    });
    return out;
  }

  async packageOf(id: string): Promise<string | null> {
    const row = await this.prisma.artifact.findUnique({ where: { id }, select: { package: true } });
    return row?.package ?? null;
  }

  async get(id: string): Promise<StoredArtifact | null> {
    const row = await this.prisma.artifact.findUnique({
      where: { id },
      include: { results: { orderBy: { id: "asc" } } },
    });
    if (!row) return null;
    return { artifact: readStoredArtifact(row.body), digest: row.bodyHash, createdAt: row.createdAt, results: row.results.map(toStoredResult) };
  }

  async list(query: ArtifactQuery): Promise<ArtifactPage> {
    const createdAt = query.since || query.until ? { ...(query.since ? { gte: query.since } : {}), ...(query.until ? { lt: query.until } : {}) } : undefined;
    // NVR first, through its own index: Prisma's `builds: { some }` becomes a correlated EXISTS
    // that SQLite answers by scanning every artifact. The page is found in SQL (an NVR may be
    // carried by more artifacts than one statement binds), then read like any other page.
    const nvrPage = query.nvr ? await this.pageIdsOfNvr(query.nvr, query) : undefined;
    const rows = await this.prisma.artifact.findMany({
      where: {
        // At most limit + 1 (≤ 501) ids: within one statement whatever Prisma adds.
        ...(nvrPage ? { id: { in: nvrPage } } : {}),
        ...(query.package ? { package: query.package } : {}),
        ...(query.release ? { release: query.release } : {}),
        ...(query.sha ? { sourceSha: query.sha } : {}),
        ...(query.branch ? { sourceBranch: query.branch } : {}),
        ...(query.event ? { sourceEvent: query.event } : {}),
        ...(createdAt ? { createdAt } : {}),
        ...(query.cursor ? { seq: { lt: decodeCursor(query.cursor) } } : {}),
      },
      orderBy: { seq: "desc" },
      take: query.limit + 1,
      include: { results: { orderBy: { id: "asc" } } },
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({
        artifact: readStoredArtifact(row.body),
        digest: row.bodyHash,
        createdAt: row.createdAt,
        results: row.results.map(toStoredResult),
      })),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.seq) : null,
    };
  }

  /** The ids of the page of `query` among the artifacts carrying `nvr`, newest first. */
  private async pageIdsOfNvr(nvr: string, query: ArtifactQuery): Promise<string[]> {
    const where = [`a."id" IN (SELECT b."artifactId" FROM "ArtifactBuild" b WHERE b."nvr" = ?)`];
    const binds: SqlValue[] = [nvr];
    const compare = (condition: string, value: SqlValue | undefined) => {
      if (value === undefined) return;
      where.push(condition);
      binds.push(value);
    };
    compare(`a."package" = ?`, query.package);
    compare(`a."release" = ?`, query.release);
    compare(`a."sourceSha" = ?`, query.sha);
    compare(`a."sourceBranch" = ?`, query.branch);
    compare(`a."sourceEvent" = ?`, query.event);
    compare(`a."createdAt" >= ?`, query.since && sqlTimestamp(this.provider, query.since));
    compare(`a."createdAt" < ?`, query.until && sqlTimestamp(this.provider, query.until));
    compare(`a."seq" < ?`, query.cursor === undefined ? undefined : decodeCursor(query.cursor));
    binds.push(query.limit + 1);
    const rows = await this.sql.read((tx) => tx.all<{ id: string }>(`SELECT a."id" FROM "Artifact" a WHERE ${where.join(" AND ")} ORDER BY a."seq" DESC LIMIT ?`, binds));
    return rows.map((r) => r.id);
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
    return this.prisma.$transaction(async (tx) => {
      const artifact = await tx.artifact.findUnique({ where: { id: artifactId }, select: { id: true } });
      if (!artifact) return { status: "not-found" } as const;
      const existing = await tx.artifactResult.findMany({ where: { artifactId } });
      const current = new Map(existing.map((r) => [resultKey({ testcase: r.testcase, refUrl: r.refUrl || undefined }), r]));
      const newKeys = [...byKey.keys()].filter((k) => !current.has(k));
      if (existing.length + newKeys.length > limit) return { status: "too-many", limit } as const;
      const now = new Date();
      let added = 0;
      let updated = 0;
      let unchanged = 0;
      let stale = 0;
      for (const [key, r] of byKey) {
        const prior = current.get(key);
        const fields = { outcome: r.outcome, scenario: r.scenario ?? null, note: r.note ?? null, submittedAt: r.submittedAt !== undefined ? new Date(r.submittedAt) : null };
        if (!prior) {
          await tx.artifactResult.create({
            data: { artifactId, testcase: r.testcase, refUrl: r.refUrl ?? "", ...fields, createdAt: now, updatedAt: now },
          });
          added++;
        } else if (!replaces({ ...r, receivedAt: now }, { ...toStoredResult(prior), receivedAt: prior.updatedAt })) {
          stale++;
        } else if (
          prior.outcome !== fields.outcome ||
          prior.scenario !== fields.scenario ||
          prior.note !== fields.note ||
          prior.submittedAt?.getTime() !== fields.submittedAt?.getTime()
        ) {
          await tx.artifactResult.update({ where: { id: prior.id }, data: { ...fields, updatedAt: now } });
          updated++;
        } else unchanged++;
      }
      const all = await tx.artifactResult.findMany({ where: { artifactId }, orderBy: { id: "asc" } });
      return { status: "appended", added, updated, unchanged, stale, results: all.map(toStoredResult) } as const;
    });
  }
}

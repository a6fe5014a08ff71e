// Every store statement that binds a list, at, just under and just beyond the bind limit, on both
// databases. The cases come from one table whose keys the compiler derives from the store's
// classes: a new method that takes an array does not compile until it has a case here. Each case
// is measured, not declared: its statements are observed in the store (or, for repositories not
// yet on it, in the SQL runner), their bind count per item and besides is found from two and three items, and the item counts that fill one statement
// exactly (and one fewer, one more) are derived from that.
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArtifact, type Artifact } from "../../src/domain/artifact.js";
import { environmentPackageKey } from "../../src/domain/environmentPackage.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { BusEventRepository } from "../../src/store/busEventRepository.js";
import { BusOutboxRepository } from "../../src/store/busOutboxRepository.js";
import { DecisionRepository, type NewDecision } from "../../src/store/decisionRepository.js";
import { BrokenDepsReportRepository } from "../../src/store/brokenDepsReportRepository.js";
import { PruneRepository } from "../../src/store/pruneRepository.js";
import { ReleaseRepository, type NewRelease, type ReleaseRecord } from "../../src/store/releaseRepository.js";
import { WaiverRepository, type NewWaiver } from "../../src/store/waiverRepository.js";
import { RequestRepository, type NewRequest } from "../../src/store/requestRepository.js";
import { KojiTagRepository } from "../../src/store/kojiTagRepository.js";
import type { KojiTagChange } from "../../src/domain/busMapping.js";
import type { ScmTicketRepository } from "../../src/store/scmTicketRepository.js";
import type { SelectQueryBuilder } from "kysely";
import { BindLimitExceeded, MAX_BIND_PARAMETERS, observeStatements, stamp, type DB } from "../../src/store/store.js";
import { sampleArtifact } from "../support/artifacts.js";
import { countRows } from "../support/rows.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

/** True when some parameter is an array, or an object with an array-valued property. */
type TakesList<Args extends unknown[]> = true extends {
  [I in keyof Args]: Args[I] extends readonly unknown[] ? true : Args[I] extends object ? (true extends { [P in keyof Args[I]]-?: Args[I][P] extends readonly unknown[] | undefined ? (Args[I][P] extends undefined ? false : true) : false }[keyof Args[I]] ? true : false) : false;
}[number]
  ? true
  : false;
/** The names of T's functions that take a list. */
type ListTaking<T> = { [K in keyof T]: T[K] extends (...args: infer A) => unknown ? (TakesList<A> extends true ? K : never) : never }[keyof T] & string;

interface Store {
  db: TestDatabase["db"];
  releases: ReleaseRepository;
  artifacts: ArtifactRepository;
  busEvents: BusEventRepository;
  outbox: BusOutboxRepository;
  prune: PruneRepository;
  decisions: DecisionRepository;
  waivers: WaiverRepository;
  requests: RequestRepository;
  kojiTags: KojiTagRepository;
  /** Stored artifacts nobody else uses, handed out one at a time. */
  freshArtifacts(n: number): Promise<Artifact[]>;
  /** Queued releases of fresh artifacts. */
  queued(n: number): Promise<ReleaseRecord[]>;
  /** A name no earlier call returned. */
  unique(prefix: string): string;
}

/** Runs the method with `n` items and checks what it did; items the store does not know fill the list. */
type Case = (store: Store, n: number) => Promise<void>;

const absent = (store: Store, n: number) => Array.from({ length: n }, () => store.unique("absent"));
/** `n` items with `real` at the first and last place and (past one statement) everywhere between. */
function spread<T>(real: T[], filler: T[], n: number): T[] {
  const out = filler.slice(0, n);
  real.forEach((r, i) => (out[i === 0 ? 0 : n - real.length + i] = r));
  return out;
}

function release(a: Artifact, environment: string, store: Store): NewRelease {
  return { artifactId: a.id, environment, repository: "gitops", branch: "main", package: store.unique("pkg"), trigger: "user:test", createdBy: "user:test", force: false };
}

const releaseCases: Record<ListTaking<ReleaseRepository>, Case> = {
  async enqueueIn(store, n) {
    // Each input its own environment and artifact: every list in the statement grows with n.
    const inputs = (await store.freshArtifacts(n)).map((a) => ({ ...release(a, store.unique("env"), store), decision: () => decision(a.id, store) }));
    const outcomes = await store.db.transaction((tx) => store.releases.enqueueIn(tx, inputs));
    expect(outcomes.filter((o) => o.status === "queued")).toHaveLength(n);
    const again = await store.db.transaction((tx) => store.releases.enqueueIn(tx, inputs.map(({ decision: _d, ...i }) => i)));
    expect(again.filter((o) => o.status === "duplicate")).toHaveLength(n);
  },
  async tagContenders(store, n) {
    const [first, last] = await store.queued(2);
    const pairs = spread(
      [first, last].map((r) => ({ environment: (r as ReleaseRecord).environment, package: (r as ReleaseRecord).package })),
      absent(store, n).map((x) => ({ environment: `${x}-env`, package: `${x}-pkg` })),
      n,
    );
    const found = await store.releases.tagContenders(pairs, 0);
    expect(found.map((r) => r.id)).toEqual(n === 1 ? [last?.id] : [first?.id, last?.id]);
  },
  async notPushed(store, n) {
    const [first, last] = await store.queued(2);
    const ids = spread([first?.id as string, last?.id as string], absent(store, n), n);
    expect([...(await store.releases.notPushed(ids))].sort()).toEqual(ids.filter((id) => id === first?.id || id === last?.id).sort());
  },
  async markPushed(store, n) {
    await marked(store, n, (items) => store.releases.markPushed(items), "pushed");
  },
  async markCommitted(store, n) {
    await marked(store, n, (items) => store.releases.markCommitted(items), "committed");
  },
  async markPushedFromHistory(store, n) {
    const real = await store.queued(2);
    // Attempts ran out for the first: history still wins.
    await setup(() => store.releases.markAttemptFailed([real[0]?.id as string], "remote down", 1, () => 0));
    await marked(store, n, (items) => store.releases.markPushedFromHistory(items), "pushed", real);
  },
  async markSuperseded(store, n) {
    const real = await store.queued(2);
    const items = spread(
      real.map((r) => ({ id: r.id, by: `by-${r.id}` })),
      absent(store, n).map((id) => ({ id, by: "nobody" })),
      n,
    );
    await store.releases.markSuperseded(items);
    for (const r of real.filter((r) => items.some((i) => i.id === r.id))) {
      expect(await store.releases.get(r.id)).toMatchObject({ status: "superseded", supersededBy: `by-${r.id}`, reason: `superseded by release by-${r.id}` });
    }
  },
  async markAttemptFailed(store, n) {
    // Every id a queued release: the UPDATEs bind only those the SELECT found.
    const real = await store.queued(n);
    await store.releases.markAttemptFailed(
      real.map((r) => r.id),
      "remote down",
      8,
      () => 60_000,
    );
    for (const r of [real[0], real.at(-1)]) expect(await store.releases.get((r as ReleaseRecord).id)).toMatchObject({ status: "queued", attempts: 1, error: "remote down" });
  },
  async holdsOn(store, n) {
    const environment = store.unique("held-env");
    await store.releases.addHold({ environment, package: "glibc", reason: "mass rebuild", createdBy: "user:test" });
    const pairs = spread([{ environment, package: "glibc" }], absent(store, n).map((x) => ({ environment: x, package: "glibc" })), n);
    expect([...(await store.releases.holdsOn(pairs)).keys()]).toEqual([environmentPackageKey({ environment, package: "glibc" })]);
  },
};

async function marked(store: Store, n: number, mark: (items: { id: string; commitSha: string }[]) => Promise<void>, status: string, given?: ReleaseRecord[]): Promise<void> {
  const real = given ?? (await store.queued(2));
  const items = spread(
    real.map((r, i) => ({ id: r.id, commitSha: String(i + 1).repeat(40) })),
    absent(store, n).map((id) => ({ id, commitSha: "f".repeat(40) })),
    n,
  );
  await mark(items);
  for (const item of items.filter((i) => real.some((r) => r.id === i.id))) expect(await store.releases.get(item.id)).toMatchObject({ status, commitSha: item.commitSha });
}

function decision(artifactId: string, store: Store): NewDecision {
  return { artifactId, policy: store.unique("policy"), event: "artifact", fired: false, waiting: true, releaseId: null, reason: "needs tier0" };
}

/** The first and the last decision are stored (the last one in the last statement). */
async function decisionsStored(store: Store, decisions: NewDecision[]): Promise<void> {
  const ends = [...new Set([decisions[0]?.policy as string, decisions.at(-1)?.policy as string])];
  expect(await countRows(store.db, "Decision", { column: "policy", in: ends })).toBe(ends.length);
}

const decisionCases: Record<ListTaking<DecisionRepository>, Case> = {
  async recordIn(store, n) {
    const decisions = Array.from({ length: n }, () => decision("artifact-x", store));
    await store.db.transaction((tx) => store.decisions.recordIn(tx, decisions));
    await decisionsStored(store, decisions);
  },
  async record(store, n) {
    const decisions = Array.from({ length: n }, () => decision("artifact-y", store));
    await store.decisions.record(decisions);
    await decisionsStored(store, decisions);
  },
};

const artifactCases: Record<ListTaking<ArtifactRepository>, Case> = {
  // Concurrent calls are written as one batch (a group commit): its statements bind every artifact.
  async ingest(store, n) {
    const artifacts = Array.from({ length: n }, () => parsed(sampleArtifact({ package: store.unique("ingest") })));
    const outcomes = await Promise.all(artifacts.map((a) => store.artifacts.ingest(a)));
    expect(outcomes.filter((o) => o.status === "created")).toHaveLength(n);
  },
  async insertIn(store, n) {
    const artifacts = Array.from({ length: n }, () => parsed(sampleArtifact({ package: store.unique("insert") })));
    const { outcomes, created } = await store.db.transaction((tx) => store.artifacts.insertIn(tx, artifacts));
    expect(outcomes.filter((o) => o.status === "created")).toHaveLength(n);
    expect(created).toHaveLength(n);
  },
  async getMany(store, n) {
    const real = await store.freshArtifacts(2);
    const ids = spread(
      real.map((a) => a.id),
      absent(store, n),
      n,
    );
    expect([...(await store.artifacts.getMany(ids)).keys()].sort()).toEqual(ids.filter((id) => real.some((a) => a.id === id)).sort());
  },
  // One statement per result (a request carries few): its binds do not grow with the list.
  async appendResults(store, n) {
    const [artifact] = await store.freshArtifacts(1);
    const results = Array.from({ length: n }, (_, i) => ({ kind: "ci-result" as const, testcase: `fedora-ci.koji-build.tier0.t${i}`, outcome: "PASSED" as const }));
    expect(await store.artifacts.appendResults((artifact as Artifact).id, results, n + 10)).toMatchObject({ status: "appended", added: n });
  },
};

const busEventCases: Record<ListTaking<BusEventRepository>, Case> = {
  async waitingFor(store, n) {
    const nvrs = [store.unique("waiting-1.0-1.fc45"), store.unique("waiting-2.0-1.fc45")];
    for (const nvr of nvrs) {
      await store.busEvents.record({ messageId: store.unique("msg"), topic: "org.fedoraproject.prod.ci.koji-build.test.complete", bareTopic: "ci.koji-build.test.complete", status: "waiting", reason: "no artifact yet", artifactId: null, nvr, parsed: true, envelope: "{}" });
    }
    const asked = spread(nvrs, absent(store, n), n);
    expect((await store.busEvents.waitingFor(asked, 10)).map((e) => e.nvr)).toEqual(nvrs.filter((v) => asked.includes(v)));
  },
};

const outboxCases: Record<ListTaking<BusOutboxRepository>, Case> = {
  async add(store, n) {
    const messages = Array.from({ length: n }, () => ({ key: store.unique("key"), messageId: store.unique("mid"), releaseSeq: 1, topic: "relengd.release.queued", envelope: "{}" }));
    expect(await store.outbox.add(messages)).toBe(n);
    expect(await store.outbox.add(messages)).toBe(0);
  },
  async markPublished(store, n) {
    const seqs = await outboxSeqs(store, n);
    await store.outbox.markPublished(seqs);
    expect(await countOutbox(store, [seqs[0] as number, seqs.at(-1) as number], (q) => q.where("publishedAt", "is not", null))).toBe(Math.min(n, 2));
  },
  async countAttempt(store, n) {
    const seqs = await outboxSeqs(store, n);
    await store.outbox.countAttempt(seqs);
    expect(await countOutbox(store, [seqs[0] as number, seqs.at(-1) as number], (q) => q.where("attempts", "=", 1))).toBe(Math.min(n, 2));
  },
  async releasesByIds(store, n) {
    const real = await store.queued(2);
    const ids = spread(
      real.map((r) => r.id),
      absent(store, n),
      n,
    );
    expect((await store.outbox.releasesByIds(ids)).map((r) => r.id)).toEqual(real.map((r) => r.id).filter((id) => ids.includes(id)));
  },
};

/** Outbox rows among `seqs` that `filter` keeps (not observed: the case's check, not its work). */
function countOutbox(store: Store, seqs: number[], filter: (q: SelectQueryBuilder<DB, "BusOutbox", object>) => SelectQueryBuilder<DB, "BusOutbox", object>): Promise<number> {
  return setup(async () => {
    const rows = await store.db.read((tx) => filter(tx.selectFrom("BusOutbox").where("seq", "in", seqs)).select("seq").execute());
    return rows.length;
  });
}

/** `n` outbox sequence numbers: stored messages first and last, numbers nobody has between. */
async function outboxSeqs(store: Store, n: number): Promise<number[]> {
  const keys = [store.unique("key"), store.unique("key")];
  await setup(() => store.outbox.add(keys.map((key) => ({ key, messageId: store.unique("mid"), releaseSeq: 1, topic: "relengd.release.queued", envelope: "{}" }))));
  const rows = await setup(() => store.db.read((tx) => tx.selectFrom("BusOutbox").select("seq").where("key", "in", keys).orderBy("seq", "asc").execute()));
  const filler = Array.from({ length: n }, (_, i) => -1 - i);
  return spread(
    rows.map((r) => r.seq),
    filler,
    n,
  );
}

const pruneCases: Record<ListTaking<PruneRepository>, Case> = {
  async countDependents(store, n) {
    const real = await store.freshArtifacts(2);
    const ids = spread(
      real.map((a) => a.id),
      absent(store, n),
      n,
    );
    // sampleArtifact has one koji build each.
    expect(await store.prune.countDependents(ids)).toEqual({ builds: Math.min(n, 2), results: 0, decisions: 0 });
  },
  async deleteUnreferenced(store, n) {
    const real = await store.freshArtifacts(2);
    const ids = spread(
      real.map((a) => a.id),
      absent(store, n),
      n,
    );
    expect(await store.prune.deleteUnreferenced(ids)).toEqual({ artifacts: Math.min(n, 2), builds: Math.min(n, 2), results: 0, decisions: 0 });
  },
  async deleteReports(store, n) {
    const reports = new BrokenDepsReportRepository(store.db);
    const real = await setup(() =>
      Promise.all([0, 1].map(() => reports.save({ tree: store.unique("tree"), origin: "cli", repoSetKey: "k", arches: ["x86_64"], generatedAt: new Date(0), dnfMs: 1, error: "gone" }))),
    );
    const ids = spread(
      real.map((r) => r.id),
      absent(store, n),
      n,
    );
    expect(await store.prune.deleteReports(ids)).toBe(Math.min(n, 2));
  },
};

function newWaiver(store: Store, fields: Partial<NewWaiver>): NewWaiver {
  return { artifactId: null, nvr: null, testcase: "fedora-ci.koji-build.tier0.functional", waived: true, comment: "flaky", username: "releaser", source: "waiverdb", messageId: null, waivedAt: new Date(0), ...fields };
}

const waiverCases: Record<ListTaking<WaiverRepository>, Case> = {
  // One row, its environments kept as one JSON value: the binds do not grow with them.
  async create(store, n) {
    const environments = Array.from({ length: n }, () => store.unique("env"));
    expect((await store.waivers.create(newWaiver(store, { artifactId: store.unique("a"), environments }))).environments).toEqual(environments);
  },
  async createIn(store, n) {
    const environments = Array.from({ length: n }, () => store.unique("env"));
    const made = await store.db.transaction((tx) => store.waivers.createIn(tx, newWaiver(store, { artifactId: store.unique("a"), environments }), new Date(0)));
    expect(made.environments).toEqual(environments);
  },
  async forArtifact(store, n) {
    const artifactId = store.unique("artifact");
    const nvrs = [store.unique("waived-1.0-1.fc45"), store.unique("waived-2.0-1.fc45")];
    await setup(async () => {
      for (const nvr of nvrs) await store.waivers.create(newWaiver(store, { nvr }));
      await store.waivers.create(newWaiver(store, { artifactId, source: "api" }));
    });
    const found = await store.waivers.forArtifact(artifactId, spread(nvrs, absent(store, n), n));
    expect(found.map((w) => w.nvr ?? w.artifactId).sort()).toEqual([...nvrs.slice(0, Math.min(n, 2)), artifactId].sort());
  },
  async forNvrsIn(store, n) {
    const nvrs = [store.unique("waived-1.0-1.fc45"), store.unique("waived-2.0-1.fc45")];
    await setup(async () => {
      for (const nvr of nvrs) await store.waivers.create(newWaiver(store, { nvr }));
    });
    const found = await store.db.read((tx) => store.waivers.forNvrsIn(tx, spread(nvrs, absent(store, n), n)));
    expect([...found.keys()].sort()).toEqual(nvrs.slice(0, Math.min(n, 2)).sort());
  },
};

function newRequest(store: Store, fields: Partial<NewRequest>): NewRequest {
  return {
    repository: "gitops",
    branch: store.unique("requests/bind"),
    revision: store.unique("rev"),
    base: null,
    status: "approved",
    documents: [],
    author: "jdoe",
    authorEmail: null,
    verified: true,
    source: "git",
    reasons: [],
    approvedBy: "policy/bind",
    decisions: [],
    seenAt: new Date(0),
    ...fields,
  };
}

const document = (path: string, blob = "old") => ({ path, kind: "BranchRequest", blob, content: "apiVersion: relengd/v1\n" });

const requestCases: Record<ListTaking<RequestRepository>, Case> = {
  // A request's documents and its decisions: one insert each, however many.
  async record(store, n) {
    const documents = Array.from({ length: n }, () => document(store.unique("distgit/branches/rpms/p/f44.yaml")));
    const decisions = documents.map((d) => ({ policy: "bind", path: d.path, outcome: "unmet", reason: "bind limits", conditions: [] }));
    const { record } = await store.requests.record(newRequest(store, { documents, decisions }));
    expect(record.documents).toHaveLength(n);
  },
  async conflicts(store, n) {
    const paths = [store.unique("distgit/a.yaml"), store.unique("distgit/b.yaml")];
    await setup(() => store.requests.record(newRequest(store, { status: "needs-review", documents: paths.map((p) => document(p)) })));
    const asked = spread(
      paths.map((path) => ({ path, blob: "new" })),
      absent(store, n).map((path) => ({ path, blob: "new" })),
      n,
    );
    const found = await store.requests.conflicts("gitops", store.unique("requests/mine"), asked);
    expect(found.map((f) => f.path).sort()).toEqual(paths.slice(0, Math.min(n, 2)).sort());
  },
  async latestOfBranches(store, n) {
    const branches = [store.unique("requests/x"), store.unique("requests/y")];
    await setup(async () => {
      for (const branch of branches) await store.requests.record(newRequest(store, { branch }));
    });
    const found = await store.requests.latestOfBranches("gitops", spread(branches, absent(store, n), n));
    expect(found.map((b) => b.branch).sort()).toEqual(branches.slice(0, Math.min(n, 2)).sort());
  },
  // A new verdict's decisions: one insert, however many.
  async rejudge(store, n) {
    const { record } = await setup(() => store.requests.record(newRequest(store, { status: "needs-review", documents: [document(store.unique("distgit/r.yaml"))] })));
    const decisions = Array.from({ length: n }, () => ({ policy: "bind", path: "distgit/r.yaml", outcome: "approve", reason: "facts came back", conditions: [] }));
    const updated = await store.requests.rejudge(record.id, { status: "approved", reasons: ["facts came back"], approvedBy: "policy/bind", decisions });
    expect(updated?.status).toBe("approved");
  },
  // One row, the documents kept as one JSON value: the binds do not grow with them.
  async saveUnreviewed(store, n) {
    const repository = store.unique("repo");
    const documents = Array.from({ length: n }, () => ({ path: store.unique("distgit/u.yaml"), commit: "c".repeat(40), subject: "pushed straight" }));
    await store.requests.saveUnreviewed({ repository, branch: "main", head: "h".repeat(40), documents, checkedAt: new Date(0) });
    expect((await store.requests.unreviewed(repository))?.documents).toHaveLength(n);
  },
  async mergeCommits(store, n) {
    const ids = await setup(async () => {
      const out: string[] = [];
      for (let i = 0; i < 2; i++) {
        const { record } = await store.requests.record(newRequest(store, {}));
        await store.requests.markMerged(record.id, `merge-${record.id}`);
        out.push(record.id);
      }
      return out;
    });
    const found = await store.requests.mergeCommits(spread(ids, absent(store, n), n));
    expect([...found.keys()].sort()).toEqual(ids.slice(0, Math.min(n, 2)).sort());
  },
};

const scmTicketCases: Record<ListTaking<ScmTicketRepository>, Case> = {
  // Which of the asked paths a merged ticket holds: the asked list is chunked.
  async mergedPathsIn(store, n) {
    const paths = [store.unique("distgit/repos/rpms/merged"), store.unique("distgit/repos/rpms/merged")];
    const now = stamp(new Date());
    await setup(() =>
      store.db.transaction(async (tx) => {
        for (const path of paths) {
          const ticketId = Number(store.unique("").replace(/\D/g, "").slice(-9)) || 1;
          await tx
            .insertInto("ScmTicket")
            .values({ ticketId, title: "t", author: "jdoe", content: "c", kind: "RepoRequest", path, problems: null, unreadable: null, state: "merged", closeStatus: "Processed", closedBy: "releng-bot", closedReason: null, revision: 1, verdict: "approved", verdictReview: null, verdictReasons: "[]", agreement: null, agreementRelengd: null, agreementBot: null, comparedAt: null, version: 0, lastMessageId: store.unique("m"), createdAt: now, updatedAt: now })
            .execute();
        }
      }),
    );
    const found = await store.db.read((tx) => store.busEvents.scmTickets.mergedPathsIn(tx, spread(paths, absent(store, n), n)));
    expect([...found].sort()).toEqual(paths.slice(0, Math.min(n, 2)).sort());
  },
  // A ticket's misfits and reasons are one JSON column each, however many.
  async saveIn(store, n) {
    const ticketId = Number(store.unique("").replace(/\D/g, "").slice(-9)) || 1;
    const verdict = { status: "needs-review" as const, review: "rule" as const, reasons: Array.from({ length: n }, (_, i) => `reason ${i}`) };
    const write = { ticketId, title: "t", author: "jdoe", content: "c", kind: "RepoRequest" as const, path: store.unique("distgit/repos/rpms/x"), problems: Array.from({ length: n }, (_, i) => `/spec/x${i} misfit`), unreadable: null, state: "open" as const, closeStatus: null, closedBy: null, closedReason: null, revision: 1, verdict, agreement: null, lastMessageId: store.unique("m") };
    await store.db.transaction((tx) => store.busEvents.scmTickets.saveIn(tx, null, write, new Date()));
    expect((await store.busEvents.scmTickets.ticket(ticketId))?.problems).toHaveLength(n);
  },
  async recordVerdictIn(store, n) {
    const ticketId = Number(store.unique("").replace(/\D/g, "").slice(-9)) || 1;
    const verdict = { status: "denied" as const, review: null, reasons: Array.from({ length: n }, (_, i) => `reason ${i}`) };
    await store.db.transaction((tx) => store.busEvents.scmTickets.recordVerdictIn(tx, ticketId, 1, store.unique("m"), verdict, new Date()));
    expect((await store.busEvents.scmTickets.verdicts(ticketId))[0]?.verdict.reasons).toHaveLength(n);
  },
};

const kojiTagCases: Record<ListTaking<KojiTagRepository>, Case> = {
  // The blame lookup: every candidate package name of every unresolved dependency of a report.
  async history(store, n) {
    const tag = store.unique("f45-build");
    const names = [store.unique("libfoo"), store.unique("libbar")];
    await setup(async () => {
      for (const [i, name] of names.entries()) {
        const change = { action: "tag", tag, package: name, nvr: `${name}-1-1.fc45` } as KojiTagChange;
        await store.db.transaction((tx) => store.kojiTags.observeIn(tx, change, new Date(Date.UTC(2031, 0, 1 + i)), store.unique("m"), new Date()));
      }
    });
    const found = await store.kojiTags.history(tag, spread(names, absent(store, n), n));
    expect(found.map((e) => e.package).sort()).toEqual(names.slice(0, Math.min(n, 2)).sort());
  },
};

const cases: Record<string, Case> = {
  ...prefixed("KojiTagRepository", kojiTagCases),
  ...prefixed("RequestRepository", requestCases),
  ...prefixed("ScmTicketRepository", scmTicketCases),
  ...prefixed("ReleaseRepository", releaseCases),
  ...prefixed("DecisionRepository", decisionCases),
  ...prefixed("ArtifactRepository", artifactCases),
  ...prefixed("BusEventRepository", busEventCases),
  ...prefixed("BusOutboxRepository", outboxCases),
  ...prefixed("PruneRepository", pruneCases),
  ...prefixed("WaiverRepository", waiverCases),
};
/** Store classes whose methods take no list (checked by the compiler below where it can be). */
const listFree = ["BranchLease", "BrokenDepsReportRepository", "ForgeDeliveryRepository", "GroupCommit", "ObservedRepository", "OverviewRepository", "ScheduleRunRepository", "ShadowRepository", "TokenRepository"];
const _noLists: [
  ListTaking<import("../../src/store/overviewRepository.js").OverviewRepository>,
  ListTaking<import("../../src/store/shadowRepository.js").ShadowRepository>,
  ListTaking<import("../../src/store/forgeDeliveryRepository.js").ForgeDeliveryRepository>,
  ListTaking<import("../../src/store/observedRepository.js").ObservedRepository>,
  ListTaking<BrokenDepsReportRepository>,
] = [] as unknown as [never, never, never, never, never];
void _noLists;
/** Whose methods only do per-row statements: their binds must not grow with the list. */
const perRow = new Set(["ArtifactRepository.appendResults", "WaiverRepository.create", "WaiverRepository.createIn", "RequestRepository.saveUnreviewed", "ScmTicketRepository.saveIn", "ScmTicketRepository.recordVerdictIn"]);

function prefixed(owner: string, table: Record<string, Case>): Record<string, Case> {
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [`${owner}.${k}`, v]));
}

function parsed(input: unknown): Artifact {
  const p = parseArtifact(input);
  if (!p.ok) throw new Error("sample artifact does not parse");
  return p.value;
}

/** `?, ?, ?`: an IN list of `n` placeholders, as a statement text carries it. */
function inList(n: number): string {
  return new Array<string>(n).fill("?").join(", ");
}

/** A statement's text with its lists folded, so that one statement of any length has one name. */
export function statementFamily(sql: string): string {
  return sql
    // PostgreSQL's numbered placeholders are placeholders all the same.
    .replace(/\$\d+/g, "?")
    .replace(/\?(\s*,\s*\?)*/g, "?…")
    .replace(/(WHEN \?…? THEN \?…?\s*)+/g, "WHEN… ")
    .replace(/\((\?…?)[^()]*\)(\s*,\s*\((\?…?)[^()]*\))*/g, "(…)")
    .replace(/\s+/g, " ");
}

interface Observed {
  family: string;
  binds: number;
}

/** While above zero, statements are not observed: a case's setup is not what it measures. */
let setupDepth = 0;
async function setup<T>(work: () => Promise<T>): Promise<T> {
  setupDepth++;
  try {
    return await work();
  } finally {
    setupDepth--;
  }
}

async function observed(run: () => Promise<void>): Promise<Observed[]> {
  const seen: Observed[] = [];
  const see = (sql: string, binds: number) => {
    if (setupDepth === 0) seen.push({ family: statementFamily(sql), binds });
  };
  const stop = observeStatements(see);
  try {
    await run();
  } finally {
    stop();
  }
  return seen;
}

/** Per statement family, its largest bind count in `seen`. */
function largest(seen: Observed[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of seen) out.set(s.family, Math.max(out.get(s.family) ?? 0, s.binds));
  return out;
}

describe("the bind-limit table", () => {
  it("names every store class whose methods take lists, or says it takes none", () => {
    const dir = fileURLToPath(new URL("../../src/store", import.meta.url));
    const classes = readdirSync(dir)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => path.basename(f, ".ts"))
      .filter((name) => /Repository$|Lease$|Commit$/.test(name))
      .map((name) => name[0]?.toUpperCase() + name.slice(1));
    const covered = new Set(Object.keys(cases).map((k) => k.split(".")[0] as string));
    expect(classes.filter((c) => !covered.has(c) && !listFree.includes(c))).toEqual([]);
  });

  it("folds a statement's lists into one family name", () => {
    expect(statementFamily(`SELECT "id" FROM "R" WHERE "id" IN (${inList(3)}) AND "s" = ?`)).toBe(statementFamily(`SELECT "id" FROM "R" WHERE "id" IN (${inList(7)}) AND "s" = ?`));
    expect(statementFamily(`INSERT INTO "T" ("a", "b") VALUES (?, ?), (?, ?) RETURNING "a"`)).toBe(statementFamily(`INSERT INTO "T" ("a", "b") VALUES (?, ?) RETURNING "a"`));
    expect(statementFamily(`select "id" from "R" where "id" in ($1, $2, $3) and "s" = $4`)).toBe(statementFamily(`select "id" from "R" where "id" in ($1) and "s" = $2`));
  });
});

describe.each(testProviders)("store statements at the bind limit on %s", (provider) => {
  let database: TestDatabase;
  let store: Store;
  const pool: Artifact[] = [];
  let counter = 0;

  beforeAll(async () => {
    database = await freshDatabase(provider);
    // Concurrent ingests all in one batch, so that one batch can fill a statement.
    const artifacts = new ArtifactRepository(database.db, { maxBatch: 10 * MAX_BIND_PARAMETERS });
    const releases = new ReleaseRepository(database.db);
    const unique = (prefix: string) => `${prefix}-${++counter}`;
    store = {
      db: database.db,
      releases,
      artifacts,
      busEvents: new BusEventRepository(database.db),
      outbox: new BusOutboxRepository(database.db),
      prune: new PruneRepository(database.db),
      decisions: new DecisionRepository(database.db),
      waivers: new WaiverRepository(database.db),
      requests: new RequestRepository(database.db),
      kojiTags: new KojiTagRepository(database.db),
      unique,
      // Stored a statement's worth at a time, as the cases ask for them.
      freshArtifacts(n) {
        return setup(async () => {
          while (pool.length < n) {
            const more = Array.from({ length: MAX_BIND_PARAMETERS }, () => parsed(sampleArtifact({ package: unique("pool") })));
            for (let i = 0; i < more.length; i += 500) await Promise.all(more.slice(i, i + 500).map((a) => artifacts.ingest(a)));
            pool.push(...more);
          }
          return pool.splice(0, n);
        });
      },
      queued(n) {
        return setup(async () => {
          const outcomes = await Promise.all((await this.freshArtifacts(n)).map((a) => releases.enqueue(release(a, unique("env"), this))));
          return outcomes.map((o) => {
            if (o.status !== "queued") throw new Error(`not queued: ${o.status}`);
            return o.release;
          });
        });
      },
    };
  }, 120_000);
  afterAll(async () => {
    await database?.dispose();
  });

  it("refuses, before the database, a statement with more binds than the limit", async () => {
    const ids = Array.from({ length: MAX_BIND_PARAMETERS + 1 }, (_, i) => `id-${i}`);
    await expect(database.db.read((tx) => tx.selectFrom("Release").select("id").where("id", "in", ids).execute())).rejects.toBeInstanceOf(BindLimitExceeded);
    await expect(
      database.db.read((tx) =>
        tx
          .selectFrom("Release")
          .select("id")
          .where("id", "in", ids.slice(2))
          .where("createdAt", "<", stamp(new Date()))
          .execute(),
      ),
    ).resolves.toEqual([]);
  });

  it.each(Object.keys(cases))("%s", async (name) => {
    const run = cases[name] as Case;
    // The shape of each statement: binds with two items and with three.
    const two = largest(await observed(() => run(store, 2)));
    const three = largest(await observed(() => run(store, 3)));
    const growing = [...three].flatMap(([family, b3]) => {
      const b2 = two.get(family) ?? 0;
      const perItem = b3 - b2;
      return perItem > 0 ? [{ family, perItem, reserved: b2 - 2 * perItem }] : [];
    });
    if (perRow.has(name)) {
      expect(growing).toEqual([]);
      return;
    }
    // A list that no runner statement grows with went around the runner (and its count).
    expect(growing.length, `${name}: no statement through the SQL runner grows with its list`).toBeGreaterThan(0);
    for (const { family, perItem, reserved } of growing) {
      const capacity = Math.floor((MAX_BIND_PARAMETERS - reserved) / perItem);
      const full = reserved + capacity * perItem;
      // A case may call its method more than once: per call, one statement or two.
      const calls = (await observed(() => run(store, capacity - 1))).filter((s) => s.family === family).length;
      expect(calls, `${name}: ${capacity - 1} items fit one statement per call`).toBeGreaterThan(0);
      for (const n of [capacity, capacity + 1]) {
        const seen = await observed(() => run(store, n));
        const ofFamily = seen.filter((s) => s.family === family);
        expect(Math.max(...seen.map((s) => s.binds)), `${name} with ${n} items`).toBeLessThanOrEqual(MAX_BIND_PARAMETERS);
        if (n === capacity) expect(ofFamily.map((s) => s.binds), `${name}: ${capacity} items fill one statement (${family})`).toEqual(new Array<number>(calls).fill(full));
        else expect(ofFamily.length, `${name}: ${n} items take two statements (${family})`).toBe(2 * calls);
      }
    }
  }, 60_000);
});

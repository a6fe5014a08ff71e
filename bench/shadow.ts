// bench/shadow: the shadow of the real request tickets (issue 17) on the path production runs —
// bus messages through ingestBusMessage (mapping, judging with the shipped approval policies and
// facts, the store) and the shadow writer into a real bare repository.
// 1. Small: BENCH_SHADOW_TICKETS (100) releng/fedora-scm-requests tickets, each filed
//    (pagure.issue.new) and then processed by the bot (pagure.issue.edit, Closed/Processed): a
//    commit on mr/scm-<id> and a merge into main. Baseline in the same run: as many Bodhi updates
//    through the same path, each pushed to testing and then to stable (a commit on mr/<alias> and
//    a merge into main), the shadow relengd already ran before issue 17. Ingest and write are
//    timed apart; the figures are ratios to the baseline.
// 2. Scale: a shadow repository with BENCH_SHADOW_SCALE (20,000) mr/scm-* branches and as many
//    merges on main, the store holding as many tickets; then BENCH_SHADOW_SCALE_TICKETS (50) more
//    tickets filed and processed, timed as in 1 — as ratios to the small run.
// SQLite, then PostgreSQL with BENCH_DATABASE_URL (BENCH_PROVIDERS to pick).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import type { Envelope } from "../src/domain/envelope.js";
import { renderShadowCommitMessage } from "../src/domain/commitMessages/shadow.js";
import { ingestBusMessage, type BusDeps } from "../src/flow/ingestBusMessage.js";
import { SHADOW_README, ShadowWriter } from "../src/gitops/shadowWriter.js";
import { ArtifactRepository } from "../src/store/artifactRepository.js";
import { BusEventRepository } from "../src/store/busEventRepository.js";
import { migrate } from "../src/store/migrator.js";
import { openStore, type Store } from "../src/store/store.js";
import { scmTicketFixtures, scmTicketMessage, shippedApproval } from "../test/support/scmTickets.js";
import { percentile } from "./gitopsFixture.js";
import { benchLine, table } from "./load.js";
import { benchDatabase, onEachProvider } from "./relengdServer.js";

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const TICKETS = num("BENCH_SHADOW_TICKETS", 100);
const SCALE = num("BENCH_SHADOW_SCALE", 20_000);
const SCALE_TICKETS = num("BENCH_SHADOW_SCALE_TICKETS", 50);
const FILL_CONCURRENCY = 16;
/** Ingest of a ticket message may cost this many times a Bodhi update's (it is judged, too). */
const INGEST_RATIO_TARGET = 3;
/** Writing may cost this many times a Bodhi update's (the same commits and merges). */
const WRITE_RATIO_TARGET = 1.5;
/** At Fedora's scale, per ticket, against the small repository. */
const SCALE_RATIO_TARGET = 3;

const quiet = pino({ level: "silent" });
const approval = shippedApproval();
const fixtures = scmTicketFixtures();
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "n/a");
const ms = (n: number) => `${n.toFixed(2)} ms`;
const git = (cwd: string, args: string[], input?: string) => execFileSync("git", args, { cwd, input, encoding: "utf8", maxBuffer: 1 << 30 });

let seq = 0;
const id = (label: string) => `bench-${label}-${process.pid}-${++seq}`;

/** A ticket filed, then processed by the bot: the two messages the queue sees of most tickets. */
function ticketMessages(ticketId: number): Envelope[] {
  const f = fixtures[ticketId % fixtures.length];
  if (!f) throw new Error("no scm ticket fixtures");
  const t = { ticketId, title: f.title, content: f.content, author: "jdoe" };
  return [
    scmTicketMessage({ ...t, id: id("new") }),
    scmTicketMessage({ ...t, id: id("processed"), topic: "pagure.issue.edit", modern: true, status: "Closed", closeStatus: "Processed", closedBy: "releng-bot", comments: [{ id: 1, user: "releng-bot", comment: "The branch was created in PDC and git" }] }),
  ];
}

/** A Bodhi update pushed to testing, then to stable: the baseline's two messages. */
function updateMessages(n: number): Envelope[] {
  const alias = `FEDORA-2026-${n.toString(16).padStart(10, "0")}`;
  const update = (status: string) => ({ update: { alias, release: { name: "F44" }, builds: [{ nvr: `bench-pkg-${n}-1.0-1.fc44` }], status, type: "bugfix", notes: "bench" } });
  return [
    { id: id("testing"), topic: "org.fedoraproject.prod.bodhi.update.complete.testing", headers: {}, body: update("testing") },
    { id: id("stable"), topic: "org.fedoraproject.prod.bodhi.update.complete.stable", headers: {}, body: update("stable") },
  ];
}

interface Run {
  ingestMs: number[];
  writeTotalMs: number;
  commits: number;
}

async function run(deps: BusDeps, writer: ShadowWriter, messages: Envelope[]): Promise<Run> {
  const ingestMs: number[] = [];
  for (const envelope of messages) {
    const t0 = performance.now();
    const result = await ingestBusMessage(deps, { ok: true, envelope });
    ingestMs.push(performance.now() - t0);
    if (result.outcome !== "accepted") throw new Error(`${envelope.topic} ${envelope.id}: ${result.outcome} ${result.reason}`);
  }
  const queued = (await deps.events.shadow.queued(1_000_000)).length;
  const t0 = performance.now();
  writer.notify();
  await writer.idle();
  const writeTotalMs = performance.now() - t0;
  const left = (await deps.events.shadow.queued(10)).length;
  if (left > 0) throw new Error(`${left} shadow changes left unwritten`);
  return { ingestMs, writeTotalMs, commits: queued };
}

const perMessage = (r: Run) => r.ingestMs.reduce((a, b) => a + b, 0) / r.ingestMs.length;
const perChange = (r: Run) => r.writeTotalMs / Math.max(1, r.commits);

function newRemote(dir: string, name: string): string {
  const at = path.join(dir, name);
  execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", at]);
  return at;
}

/**
 * A shadow repository as years of tickets leave it: `count` branches mr/scm-<id>, each one commit
 * off main, and main with a merge of each, written by fast-import in one go.
 */
function buildScaleRemote(remote: string, count: number, firstTicket: number): void {
  const lines: string[] = [];
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}`;
  const who = "relengd shadow <relengd@localhost> 1700000000 +0000";
  lines.push("blob", "mark :1", data(SHADOW_README));
  lines.push("commit refs/heads/main", "mark :2", `committer ${who}`, data("shadow repository\n"), "M 100644 :1 README.md", "");
  let main = ":2";
  let mark = 3;
  for (let i = 0; i < count; i++) {
    const ticket = firstTicket + i;
    const doc = `apiVersion: relengd/v1\nkind: BranchRequest\nspec:\n  namespace: rpms\n  repo: bench-pkg-${ticket}\n  branch: f44\n  create_git_branch: true\n`;
    const file = `distgit/branches/rpms/bench-pkg-${ticket}/f44.yaml`;
    const blob = mark++;
    lines.push("blob", `mark :${blob}`, data(doc));
    const commit = mark++;
    const message = renderShadowCommitMessage({ subject: `scm ticket ${ticket}`, messageId: `scale-${ticket}`, topic: "io.pagure.prod.pagure.issue.new", nvrs: [], problems: [] });
    lines.push(`commit refs/heads/mr/scm-${ticket}`, `mark :${commit}`, `committer ${who}`, data(message), `from ${main}`, `M 100644 :${blob} ${file}`, "");
    const merge = mark++;
    lines.push("commit refs/heads/main", `mark :${merge}`, `committer ${who}`, data(`Merge mr/scm-${ticket}\n`), `from ${main}`, `merge :${commit}`, `M 100644 :${blob} ${file}`, "");
    main = `:${merge}`;
  }
  git(remote, ["fast-import", "--quiet"], lines.join("\n") + "\n");
  // As a served repository keeps them after a gc: one packed-refs file (not a file per branch) and a commit-graph.
  git(remote, ["pack-refs", "--all"]);
  git(remote, ["commit-graph", "write", "--reachable"]);
}

async function bench(provider: "sqlite" | "postgresql", postgresUrl?: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-bench-shadow-"));
  const dbs: { drop(): Promise<void> }[] = [];
  const stores: Store[] = [];
  const open = async (name: string) => {
    const db = benchDatabase(dir, name, postgresUrl);
    dbs.push(db);
    await migrate(db.url);
    const store = await openStore(db.url);
    stores.push(store);
    const events = new BusEventRepository(store);
    const deps: BusDeps = {
      artifacts: new ArtifactRepository(store),
      events,
      mapping: { rawhideVersion: 45 },
      approval: () => ({ policies: approval.set.approvalPolicies, facts: approval.facts }),
    };
    return { db, deps, events };
  };
  const writers: ShadowWriter[] = [];
  const writerFor = (deps: BusDeps, remote: string, name: string) => {
    const w = new ShadowWriter({ changes: deps.events.shadow, url: remote, workspaceDir: path.join(dir, name), logger: quiet }, { pollMs: 3_600_000 });
    writers.push(w);
    return w;
  };
  try {
    // 1. Small: the Bodhi baseline, then the tickets, each on a fresh database and repository.
    const base = await open("bodhi");
    const bodhi = await run(base.deps, writerFor(base.deps, newRemote(dir, "bodhi.git"), "ws-bodhi.git"), Array.from({ length: TICKETS }, (_, i) => updateMessages(i)).flat());
    const small = await open("scm");
    const smallRemote = newRemote(dir, "scm.git");
    const scm = await run(small.deps, writerFor(small.deps, smallRemote, "ws-scm.git"), Array.from({ length: TICKETS }, (_, i) => ticketMessages(100_000 + i)).flat());

    // 2. Scale: the store and the repository hold SCALE tickets already.
    const big = await open("scale");
    const bigRemote = newRemote(dir, "scale.git");
    const t0 = performance.now();
    // Filled as a busy consumer would (several messages in flight), each ticket's two in order.
    let lap = performance.now();
    for (let from = 0; from < SCALE; from += FILL_CONCURRENCY) {
      if (from > 0 && from % 2000 === 0) {
        process.stderr.write(`fill: ${from} tickets, last 2000 at ${((performance.now() - lap) / 2000).toFixed(2)} ms/ticket\n`);
        lap = performance.now();
      }
      const batch = Array.from({ length: Math.min(FILL_CONCURRENCY, SCALE - from) }, (_, k) => ticketMessages(200_000 + from + k));
      await Promise.all(batch.map(async (messages) => {
        for (const envelope of messages) await ingestBusMessage(big.deps, { ok: true, envelope });
      }));
    }
    const fillMs = performance.now() - t0;
    // Their commits were written long ago: the repository below holds them, the queue is empty.
    await stores.at(-1)?.transaction((tx) => tx.updateTable("ShadowChange").set({ status: "written" }).execute());
    buildScaleRemote(bigRemote, SCALE, 200_000);
    const scale = await run(big.deps, writerFor(big.deps, bigRemote, "ws-scale.git"), Array.from({ length: SCALE_TICKETS }, (_, i) => ticketMessages(400_000 + i)).flat());
    const refs = Number(git(bigRemote, ["for-each-ref", "--count=1000000", "--format=x", "refs/heads/"]).split("\n").filter(Boolean).length);

    const ingestRatio = perMessage(scm) / perMessage(bodhi);
    const writeRatio = perChange(scm) / perChange(bodhi);
    const scaleIngest = perMessage(scale) / perMessage(scm);
    const scaleWrite = perChange(scale) / perChange(scm);
    const p = (r: Run, q: number) => percentile(sorted(r.ingestMs), q);
    console.log(`\n## shadow of the scm tickets on ${provider} (${TICKETS} tickets and updates; scale: ${SCALE} tickets, ${refs} branches, filled in ${(fillMs / 1000).toFixed(1)} s)`);
    console.log(
      table([
        ["run", "messages", "ingest mean", "ingest p50", "ingest p99", "changes", "write per change", "write total"],
        ...(
          [
            ["bodhi updates (baseline)", bodhi],
            ["scm tickets", scm],
            [`scm tickets at ${SCALE}`, scale],
          ] as const
        ).map(([name, r]) => [name, String(r.ingestMs.length), ms(perMessage(r)), ms(p(r, 50)), ms(p(r, 99)), String(r.commits), ms(perChange(r)), `${(r.writeTotalMs / 1000).toFixed(2)} s`]),
      ]),
    );
    const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
    console.log(
      table([
        ["ratio", "value", "target", ""],
        ["ingest: ticket / update", f2(ingestRatio), `≤ ${INGEST_RATIO_TARGET}`, verdict(ingestRatio <= INGEST_RATIO_TARGET)],
        ["write: ticket / update", f2(writeRatio), `≤ ${WRITE_RATIO_TARGET}`, verdict(writeRatio <= WRITE_RATIO_TARGET)],
        [`ingest: at ${SCALE} / small`, f2(scaleIngest), `≤ ${SCALE_RATIO_TARGET}`, verdict(scaleIngest <= SCALE_RATIO_TARGET)],
        [`write: at ${SCALE} / small`, f2(scaleWrite), `≤ ${SCALE_RATIO_TARGET}`, verdict(scaleWrite <= SCALE_RATIO_TARGET)],
      ]),
    );
    const targets: [string, number, number][] = [
      ["ingest of a ticket message / a Bodhi update's", ingestRatio, INGEST_RATIO_TARGET],
      ["write of a ticket change / a Bodhi update's", writeRatio, WRITE_RATIO_TARGET],
      [`ingest at ${SCALE} tickets / small`, scaleIngest, SCALE_RATIO_TARGET],
      [`write at ${SCALE} branches / small`, scaleWrite, SCALE_RATIO_TARGET],
    ];
    for (const [what, value, target] of targets) console.log(`${verdict(value <= target)} shadow on ${provider}: ${what} ${f2(value)} (target ≤ ${target})`);
    benchLine(`shadow-${provider}`, "ingest_ratio_to_bodhi", ingestRatio, "lower");
    benchLine(`shadow-${provider}`, "write_ratio_to_bodhi", writeRatio, "lower");
    benchLine(`shadow-${provider}`, "scale_ingest_ratio", scaleIngest, "lower");
    benchLine(`shadow-${provider}`, "scale_write_ratio", scaleWrite, "lower");
  } finally {
    for (const w of writers) await w.stop();
    for (const s of stores) await s.close();
    for (const db of dbs) await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await onEachProvider("bench:shadow", bench);

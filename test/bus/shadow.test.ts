// The shadow repository: bus messages through the real ingest into the store, the shadow writer into a real bare remote.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Envelope } from "../../src/domain/envelope.js";
import { ingestBusMessage, type BusDeps } from "../../src/flow/ingestBusMessage.js";
import { parseShadowCommitMessage } from "../../src/domain/commitMessages/shadow.js";
import { SHADOW_README, ShadowWriter } from "../../src/gitops/shadowWriter.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { BusEventRepository } from "../../src/store/busEventRepository.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { fixtureJson } from "../support/fedoraMessages.js";
import { git } from "../support/remote.js";
import { fileAt, remoteBranches as branches, shadowCommitsOf as commitsOf } from "../support/shadowRemote.js";

const quiet = pino({ level: "silent" });
let counter = 0;
const uniq = (label: string) => `${label}-${process.pid}-${++counter}`;


describe.each(testProviders)("the shadow writer on %s", (provider) => {
  let database: TestDatabase;
  let events: BusEventRepository;
  let deps: BusDeps;
  let dir: string;
  let remote: string;
  let writer: ShadowWriter;

  const newRemote = (name: string) => {
    const at = path.join(dir, name);
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", at]);
    return at;
  };
  const shadowWriter = (url: string, workspace = "ws.git") =>
    new ShadowWriter({ changes: events.shadow, url, workspaceDir: path.join(dir, workspace), logger: quiet }, { pollMs: 3_600_000, retryDelayMs: () => 30 });
  const ingest = async (envelope: Envelope) => {
    const result = await ingestBusMessage(deps, { ok: true, envelope });
    expect(result.outcome, result.reason).toBe("accepted");
    return envelope;
  };
  const written = async (w: ShadowWriter) => {
    w.notify();
    await w.idle();
  };
  const fixture = (file: string): Envelope => ({ ...(fixtureJson(file) as unknown as Envelope), id: uniq(file.split("/")[0] as string) });

  beforeAll(async () => {
    database = await freshDatabase(provider);
    events = new BusEventRepository(database.db);
    deps = { artifacts: new ArtifactRepository(database.db), events, mapping: { rawhideVersion: 45 } };
    dir = mkdtempSync(path.join(tmpdir(), "relengd-shadow-"));
    remote = newRemote("shadow.git");
    writer = shadowWriter(remote);
  });
  afterAll(async () => {
    await writer?.stop();
    await database?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("commits each message on mr/<alias>, merges the update into main with a two-parent merge commit, and closes with a trailer", async () => {
    const testing = await ingest(fixture("bodhi.update.complete.testing/000.json"));
    const stable = await ingest({
      id: uniq("stable"),
      topic: "org.fedoraproject.prod.bodhi.update.complete.stable",
      headers: {},
      body: { update: { alias: "FEDORA-2019-02cd019281", release: { name: "F29" }, builds: [{ nvr: "nfs-ganesha-2.7.4-1.fc29" }], status: "stable" } },
    });
    const unpush = await ingest(fixture("bodhi.update.request.unpush/000.json"));
    const compose = await ingest(fixture("pungi.compose.status.change/000.json"));
    await written(writer);

    expect(branches(remote)).toEqual(["main", "mr/FEDORA-2019-02cd019281", "mr/FEDORA-2019-8da6360454"]);
    const branch = commitsOf(remote, "mr/FEDORA-2019-02cd019281");
    // Newest first: the two mirrored messages, on top of main's first commit the branch started from.
    expect(branch.map((c) => c.info?.messageId)).toEqual([stable.id, testing.id, undefined]);
    expect(branch[0]?.info).toMatchObject({ topic: "org.fedoraproject.prod.bodhi.update.complete.stable", alias: "FEDORA-2019-02cd019281", nvrs: ["nfs-ganesha-2.7.4-1.fc29"] });
    expect(parse(fileAt(remote, "mr/FEDORA-2019-02cd019281", "bodhi/F29/nfs-ganesha.yaml") ?? "")).toMatchObject({ kind: "BodhiUpdate", spec: { request: "stable", type: "bugfix", notes: "nfs-ganesha 2.7.4 GA" } });

    const main = commitsOf(remote, "main", true);
    expect(main.map((c) => c.info?.messageId)).toEqual([compose.id, stable.id, undefined]);
    const [, merge, root] = main;
    // A real merge: main's head before it, and the merge request's commit.
    expect(merge?.parents).toEqual([root?.sha, branch[0]?.sha]);
    expect(merge?.info).toMatchObject({ merge: "mr/FEDORA-2019-02cd019281", subject: "Merge mr/FEDORA-2019-02cd019281: FEDORA-2019-02cd019281 pushed to stable" });
    expect(fileAt(remote, "main", "bodhi/F29/nfs-ganesha.yaml")).toBe(fileAt(remote, "mr/FEDORA-2019-02cd019281", "bodhi/F29/nfs-ganesha.yaml"));
    expect(fileAt(remote, "main", "README.md")).toBe(SHADOW_README);
    expect(parse(fileAt(remote, "main", "composes/f24/20151208.n.7.yaml") ?? "")).toMatchObject({ kind: "ComposeRequest", spec: { release: "f24", type: "nightly", composeId: "Fedora-24-20151208.n.7" } });
    expect(main[0]?.info).toMatchObject({ composeStatus: "FINISHED" });

    // The closed merge request: its branch stays, its last commit says why it closed, main never got it.
    const closed = commitsOf(remote, "mr/FEDORA-2019-8da6360454");
    expect(closed[0]?.info).toMatchObject({ messageId: unpush.id, closed: "unpush" });
    expect(fileAt(remote, "mr/FEDORA-2019-8da6360454", "bodhi/F28/python-operator-courier.yaml")).not.toBeNull();
    expect(fileAt(remote, "main", "bodhi/F28/python-operator-courier.yaml")).toBeNull();
    expect(await events.shadow.update("FEDORA-2019-8da6360454")).toMatchObject({ state: "closed", closedReason: "unpush" });

    const rows = await events.shadow.changes();
    expect(rows.every((r) => r.status === "written")).toBe(true);
    expect(rows.find((r) => r.messageId === stable.id)).toMatchObject({ commitSha: branch[0]?.sha, mergeSha: merge?.sha });
  });

  it("finishes what a crashed run left: a change already pushed is found by its message id, never written twice", async () => {
    const edit = await ingest(fixture("bodhi.update.edit/000.json"));
    await written(writer);
    // Only the merge request's own commits: it branched off a main that has the other tests' commits.
    const [before] = commitsOf(remote, "main..mr/FEDORA-2019-7dbbb74a13");
    // The crash: pushed, but the store was never told.
    await database.db.transaction((tx) => tx.updateTable("ShadowChange").set({ status: "queued", commitSha: null, writtenAt: null }).where("messageId", "=", edit.id).execute());
    // Queued while no writer ran.
    const stable = await ingest({ ...fixture("bodhi.update.request.stable/000.json"), body: { update: { alias: "FEDORA-2019-7dbbb74a13", release: { name: "F19" }, builds: [{ nvr: "tzdata-2014i-1.fc19" }] } } });

    const restarted = shadowWriter(remote, "ws-restarted.git");
    restarted.start();
    await restarted.idle();
    await restarted.stop();
    const after = commitsOf(remote, "main..mr/FEDORA-2019-7dbbb74a13");
    expect(after.map((c) => c.info?.messageId)).toEqual([stable.id, edit.id]);
    expect(after[1]?.sha).toBe(before?.sha);
    expect((await events.shadow.changes({ alias: "FEDORA-2019-7dbbb74a13" })).map((c) => [c.status, c.commitSha])).toEqual([
      ["written", before?.sha],
      ["written", after[0]?.sha],
    ]);
  });

  it("keeps changes queued while the repository cannot be reached, and writes them in order once it can", async () => {
    const unreachable = path.join(dir, "not-yet.git");
    const late = shadowWriter(unreachable, "ws-late.git");
    const alias = "FEDORA-2026-00000000aa";
    const message = (n: number): Envelope => ({
      id: uniq(`late-${n}`),
      topic: "org.fedoraproject.prod.bodhi.update.edit",
      headers: {},
      body: { update: { alias, release: { name: "F44" }, builds: [{ nvr: "fish-4.0-1.fc44" }], notes: `note ${n}`, request: "testing" } },
    });
    const [first, second] = [await ingest(message(1)), await ingest(message(2))];
    // Only the changes of this test are the late writer's business: the others are written already.
    await written(late);
    const waiting = await events.shadow.changes({ alias });
    expect(waiting.map((c) => [c.status, c.attempts])).toEqual([
      ["queued", 1],
      // Its branch's earlier change failed: it is not tried before it.
      ["queued", 0],
    ]);
    expect(waiting[0]?.error).toMatch(/fetch from .*not-yet\.git failed/);

    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", unreachable]);
    await new Promise((r) => setTimeout(r, 50));
    await written(late);
    await late.stop();
    expect(commitsOf(unreachable, `mr/${alias}`).flatMap((c) => (c.info ? [c.info.messageId] : []))).toEqual([second.id, first.id]);
    expect(parse(fileAt(unreachable, `mr/${alias}`, "bodhi/F44/fish.yaml") ?? "")).toMatchObject({ spec: { notes: "note 2" } });
    expect((await events.shadow.changes({ alias })).every((c) => c.status === "written")).toBe(true);
  });

  it("removes a stale lock git left in its workspace and writes the change at once", async () => {
    const locked = newRemote("locked.git");
    const w = shadowWriter(locked, "ws-locked.git");
    await ingest(fixture("pungi.compose.status.change/000.json"));
    await written(w);
    expect(commitsOf(locked, "main").length).toBeGreaterThan(0);
    // A git process killed while updating the remote-tracking ref of main leaves this behind.
    const lock = path.join(dir, "ws-locked.git", "refs", "remotes", "origin", "main.lock");
    writeFileSync(lock, "");
    const compose = await ingest(fixture("pungi.compose.status.change/000.json"));
    await written(w);
    await w.stop();
    expect(existsSync(lock)).toBe(false);
    expect(commitsOf(locked, "main")[0]?.info?.messageId).toBe(compose.id);
    expect((await events.shadow.changes({})).find((c) => c.messageId === compose.id)).toMatchObject({ status: "written", attempts: 0 });
  });

  it("builds on what others pushed to main and never force-pushes", async () => {
    const clone = mkdtempSync(path.join(dir, "person-"));
    git(clone, "clone", "--quiet", remote, "work");
    const work = path.join(clone, "work");
    writeFileSync(path.join(work, "LAYOUT.md"), "trying another layout\n");
    git(work, "add", "LAYOUT.md");
    git(work, "-c", "user.name=Person", "-c", "user.email=person@example.org", "commit", "--quiet", "-m", "layout notes");
    git(work, "push", "--quiet", "origin", "main");
    const theirs = git(work, "rev-parse", "HEAD").trim();

    const compose = await ingest({ ...fixture("pungi.compose.status.change/000.json"), body: { compose_id: "Fedora-Rawhide-20230502.n.0", status: "FINISHED_INCOMPLETE" } });
    await written(writer);
    const main = commitsOf(remote, "main", true);
    expect(main[0]?.info).toMatchObject({ messageId: compose.id, composeStatus: "FINISHED_INCOMPLETE" });
    expect(main[0]?.parents).toEqual([theirs]);
    expect(fileAt(remote, "main", "LAYOUT.md")).toBe("trying another layout\n");
    expect(fileAt(remote, "main", "composes/rawhide/20230502.n.0.yaml")).not.toBeNull();
  });

  it("writes each change once when two writers share the store and the clone", async () => {
    const [a, b] = [shadowWriter(remote, "ws-shared.git"), shadowWriter(remote, "ws-shared.git")];
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) {
      const alias = `FEDORA-2026-00000001${String(n).padStart(2, "0")}`;
      ids.push((await ingest({ id: uniq(`pair-${n}`), topic: "org.fedoraproject.prod.bodhi.update.request.testing", headers: {}, body: { update: { alias, release: { name: "F44" }, builds: [{ nvr: `pkg${n}-1-1.fc44` }] } } })).id);
    }
    a.notify();
    b.notify();
    await Promise.all([a.idle(), b.idle()]);
    await Promise.all([a.stop(), b.stop()]);
    const all = git(remote, "log", "--all", "--format=%B%x1e").split("\x1e").map((m) => parseShadowCommitMessage(m)?.messageId);
    for (const id of ids) expect(all.filter((m) => m === id), id).toHaveLength(1);
    expect(await events.shadow.countQueued()).toBe(0);
  });
});

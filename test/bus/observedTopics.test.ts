// Issue 17 T: dist-git branch creations, fedocal meetings and Koji side tags through the real
// ingest path (store on both databases, shadow writer into a real bare remote). Messages are built
// from the real envelopes in test/fixtures (a copy of ../shared/fixtures; the fedocal and branch
// ones are test data with placeholders, so realistic values are put in their place).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseShadowCommitMessage } from "../../src/domain/commitMessages/shadow.js";
import type { Envelope } from "../../src/domain/envelope.js";
import { calendarEntrySchema } from "../../src/domain/requests/calendarEntry.js";
import { noFacts, parseFactFile } from "../../src/domain/requests/facts.js";
import { ingestBusMessage, type BusDeps, type BusIngestResult } from "../../src/flow/ingestBusMessage.js";
import { ShadowWriter } from "../../src/gitops/shadowWriter.js";
import { ObservedFacts } from "../../src/policy/observedFacts.js";
import { ArtifactRepository } from "../../src/store/artifactRepository.js";
import { BusEventRepository } from "../../src/store/busEventRepository.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { fixtureJson } from "../support/fedoraMessages.js";
import { git } from "../support/remote.js";

const quiet = pino({ level: "silent" });
let counter = 0;
const uniq = (label: string) => `${label}-${process.pid}-${++counter}`;
const REQUEST_MESSAGES = fileURLToPath(new URL("../fixtures/requests/messages", import.meta.url));

/** A message of test/fixtures/requests/messages without its `_source`. */
function requestMessage(file: string): Envelope {
  const { _source: _provenance, ...json } = JSON.parse(readFileSync(path.join(REQUEST_MESSAGES, file), "utf8")) as Record<string, unknown>;
  return json as unknown as Envelope;
}
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A dist-git branch creation: pagure's real GitBranchCreationV1 envelope with dist-git's values. */
function branchCreation(opts: { namespace?: unknown; repo?: unknown; branch?: unknown; topic?: string; parent?: unknown; id?: string }): Envelope {
  const real = clone(requestMessage("pagure.git.branch.creation/000.json"));
  const repo = real.body.repo as Record<string, unknown>;
  const namespace = opts.namespace === undefined ? "rpms" : opts.namespace;
  const name = opts.repo === undefined ? "nethack" : opts.repo;
  Object.assign(repo, {
    namespace,
    name,
    fullname: `${String(namespace)}/${String(name)}`,
    url_path: `${String(namespace)}/${String(name)}`,
    full_url: `https://src.fedoraproject.org/${String(namespace)}/${String(name)}`,
    description: "The nethack package",
    parent: opts.parent ?? null,
    user: { fullname: "Pierre-YvesChibon", url_path: "user/pingou", full_url: "https://src.fedoraproject.org/user/pingou", name: "pingou" },
  });
  return {
    ...real,
    id: opts.id ?? uniq("branch"),
    topic: opts.topic ?? "org.fedoraproject.prod.pagure.git.branch.creation",
    headers: { "sent-at": "2026-12-01T10:00:00+00:00" },
    body: { ...real.body, agent: "releng-bot", branch: opts.branch === undefined ? "refs/heads/f44" : opts.branch, rev: "3f1c3a0b1d0e2f4a5b6c7d8e9f00112233445566", authors: [{ fullname: "Release Engineering bot", url_path: "user/releng-bot", name: "releng-bot", email: null }] },
  };
}

/** A fedocal meeting message: fedocal-messages' real envelope with a plausible Fedora meeting. */
function meetingMessage(action: "new" | "update" | "delete", meeting: Record<string, unknown>, opts: { sentAt?: string; topic?: string; id?: string } = {}): Envelope {
  const real = clone(requestMessage(`fedocal.meeting.${action}/000.json`));
  const calendar = { calendar_name: "council", calendar_contact: "council@lists.fedoraproject.org", calendar_description: "Fedora Council meetings", calendar_editor_group: "council", calendar_admin_group: "council", calendar_status: "Enabled" };
  const base = {
    meeting_id: 10234,
    meeting_name: "Fedora Council meeting",
    calendar_name: "council",
    meeting_date: "2026-12-10",
    meeting_date_end: "2026-12-10",
    meeting_time_start: "14:00:00",
    meeting_time_stop: "15:00:00",
    meeting_timezone: "UTC",
    meeting_manager: ["jflory7", "amoloney"],
    meeting_location: "#council:fedoraproject.org",
    meeting_information: "The Council's regular meeting. Agenda on discussion.fedoraproject.org.",
    meeting_region: null,
  };
  return {
    ...real,
    id: opts.id ?? uniq(`meeting-${action}`),
    topic: opts.topic ?? real.topic,
    headers: { "sent-at": opts.sentAt ?? "2026-12-01T10:00:00+00:00" },
    body: { ...real.body, agent: "jflory7", calendar, meeting: { ...base, ...meeting } },
  };
}

describe.each(testProviders)("observed topics on %s", (provider) => {
  let database: TestDatabase;
  let events: BusEventRepository;
  let deps: BusDeps;
  let dir: string;
  let remote: string;
  let writer: ShadowWriter;
  let observedCalls = 0;

  const ingest = (envelope: Envelope): Promise<BusIngestResult> => ingestBusMessage(deps, { ok: true, envelope });
  const accepted = async (envelope: Envelope) => {
    const r = await ingest(envelope);
    expect(r.outcome, r.reason).toBe("accepted");
    return r;
  };
  const newWriter = (workspace = "ws.git") => new ShadowWriter({ changes: events.shadow, url: remote, workspaceDir: path.join(dir, workspace), logger: quiet }, { pollMs: 3_600_000, retryDelayMs: () => 30 });
  const written = async (w = writer) => {
    w.notify();
    await w.idle();
    expect(await events.shadow.countQueued()).toBe(0);
  };
  const fileAt = (ref: string, file: string): string | null => {
    try {
      return git(remote, "show", `${ref}:${file}`);
    } catch {
      return null;
    }
  };
  const mainCommits = () =>
    git(remote, "log", "--first-parent", "--format=%H%x1f%B%x1e", "main")
      .split("\x1e")
      .map((r) => r.replace(/^\n/, ""))
      .filter(Boolean)
      .map((r) => {
        const [sha = "", message = ""] = r.split("\x1f");
        return { sha, info: parseShadowCommitMessage(message) };
      });
  const changedIn = (sha: string) => git(remote, "show", "--no-renames", "--name-status", "--format=", sha).trim().split("\n").filter(Boolean).sort();

  beforeAll(async () => {
    database = await freshDatabase(provider);
    events = new BusEventRepository(database.db);
    deps = { artifacts: new ArtifactRepository(database.db), events, mapping: { rawhideVersion: 45 }, onObserved: () => observedCalls++ };
    dir = mkdtempSync(path.join(tmpdir(), "relengd-observed-"));
    remote = path.join(dir, "shadow.git");
    execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
    writer = newWriter();
  });
  afterAll(async () => {
    await writer?.stop();
    await database?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("dist-git branch creations", () => {
    it("stores the branch created, once, and feeds it to the distgit facts approval reads", async () => {
      const before = observedCalls;
      const created = branchCreation({});
      const r = await accepted(created);
      expect(r.reason).toMatch(/dist-git branch rpms\/nethack f44 created by releng-bot/);
      expect(observedCalls).toBe(before + 1);
      // Redelivered: a duplicate, not applied again.
      expect((await ingest(created)).outcome).toBe("duplicate");
      // The same branch in another message (deleted and created again): still one row.
      expect((await accepted(branchCreation({ branch: "f44" }))).reason).toMatch(/created again/);
      // A bare name (no refs/heads/) is a branch too.
      await accepted(branchCreation({ repo: "python-requests", branch: "epel10" }));
      const rows = await events.observed.branches({ namespace: "rpms", repo: "nethack" });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ namespace: "rpms", repo: "nethack", branch: "f44", agent: "releng-bot", messageId: created.id, rev: "3f1c3a0b1d0e2f4a5b6c7d8e9f00112233445566" });
      expect(rows[0]?.firstSeenAt.toISOString()).toBe("2026-12-01T10:00:00.000Z");

      const holder = new ObservedFacts(events.observed);
      expect(await holder.refresh()).toBe(true);
      expect(await holder.refresh()).toBe(false);
      const distgit = parseFactFile("distgit", { rpms: { nethack: ["rawhide", "f43"] } });
      if (!distgit.ok) throw new Error(distgit.error);
      const known = { values: { distgit: distgit.value }, status: [] };
      const merged = holder.apply(known).values.distgit;
      expect([...(merged?.get("rpms")?.get("nethack") ?? [])].sort()).toEqual(["f43", "f44", "rawhide"]);
      expect(merged?.get("rpms")?.get("python-requests")?.has("epel10")).toBe(true);
      // The configured facts are not changed, and unknown distgit facts stay unknown (observation is partial).
      expect(known.values.distgit.get("rpms")?.get("nethack")?.has("f44")).toBe(false);
      expect(holder.apply(noFacts()).values.distgit).toBeUndefined();
      // Another replica's branch is found by the next refresh.
      await accepted(branchCreation({ repo: "nethack", branch: "epel9" }));
      expect(await holder.refresh()).toBe(true);
      expect(holder.apply(known).values.distgit?.get("rpms")?.get("nethack")?.has("epel9")).toBe(true);
    });

    it("stores the repositories dist-git created (the real pagure.project.new), so repoExists knows them", async () => {
      const real = { ...requestMessage("pagure.project.new/000.json"), id: uniq("project-new") };
      const r = await accepted(real);
      expect(r.reason).toBe("observed: dist-git repository rpms/arachne-pnr created by mprahl; approval facts now know it exists");
      expect((await accepted({ ...real, id: uniq("project-new-again") })).reason).toMatch(/created again/);
      const pagureIo = { ...real, id: uniq("project-io"), topic: "io.pagure.prod.pagure.project.new" };
      expect((await ingest(pagureIo)).outcome).toBe("ignored");
      const fork = clone(real);
      (fork.body.project as Record<string, unknown>).parent = { name: "arachne-pnr" };
      expect((await ingest({ ...fork, id: uniq("project-fork") })).reason).toMatch(/a fork/);
      const traversal = clone(real);
      (traversal.body.project as Record<string, unknown>).name = "../../etc";
      expect((await ingest({ ...traversal, id: uniq("project-traversal") })).reason).toMatch(/^\/body\/project\/name /);
      const holder = new ObservedFacts(events.observed);
      await holder.refresh();
      const distgit = parseFactFile("distgit", { rpms: { nethack: ["rawhide"] } });
      if (!distgit.ok) throw new Error(distgit.error);
      const merged = holder.apply({ values: { distgit: distgit.value }, status: [] }).values.distgit;
      expect(merged?.get("rpms")?.has("arachne-pnr")).toBe(true);
      expect(merged?.get("rpms")?.has("etc")).toBe(false);
    });

    it("ignores pagure.io's, staging's, development's, forks' and prefix-less branch creations, and tags", async () => {
      const real = requestMessage("pagure.git.branch.creation/000.json");
      const cases: [Envelope, RegExp][] = [
        [{ ...real, id: uniq("pagure-io") }, /pagure\.io project/],
        [branchCreation({ topic: "io.pagure.prod.pagure.git.branch.creation" }), /pagure\.io project/],
        [branchCreation({ topic: "org.fedoraproject.stg.pagure.git.branch.creation" }), /staging dist-git/],
        [branchCreation({ topic: "org.fedoraproject.dev.pagure.git.branch.creation" }), /development dist-git/],
        [branchCreation({ topic: "pagure.git.branch.creation" }), /without its publisher's prefix/],
        [branchCreation({ parent: { name: "nethack", namespace: "rpms" } }), /a fork/],
        [branchCreation({ branch: "refs/tags/v1.0" }), /is not a branch/],
      ];
      for (const [envelope, reason] of cases) {
        const r = await ingest(envelope);
        expect(r.outcome, envelope.topic).toBe("ignored");
        expect(r.reason).toMatch(reason);
      }
      expect(await events.observed.branches({ repo: "fedocal-messages" })).toEqual([]);
    });

    it("rejects traversal, lone surrogates and wrong types, naming the field, and stores nothing", async () => {
      const cases: [Envelope, string][] = [
        [branchCreation({ repo: "../../etc" }), "/body/repo/name"],
        [branchCreation({ namespace: "../rpms" }), "/body/repo/namespace"],
        [branchCreation({ namespace: 7 }), "/body/repo/namespace"],
        [branchCreation({ repo: null }), "/body/repo/name"],
        [branchCreation({ branch: 44 }), "/body/branch"],
        [branchCreation({ branch: "refs/heads/f44\ud800" }), "/body/branch"],
        [branchCreation({ branch: "refs/heads/../../main" }), "/body/branch"],
        [branchCreation({ branch: "refs/heads/f44\nf45" }), "/body/branch"],
        [{ ...branchCreation({}), body: { branch: "f44", repo: "rpms/nethack" } }, "/body/repo"],
      ];
      for (const [envelope, field] of cases) {
        const r = await ingest(envelope);
        expect(r.outcome, JSON.stringify(envelope.body.branch)).toBe("rejected");
        expect(r.reason.startsWith(field + " ")).toBe(true);
      }
      const all = await events.observed.branches();
      expect(all.every((b) => /^[a-z]/.test(b.namespace) && !b.repo.includes("/") && !b.branch.includes(".."))).toBe(true);
    });
  });

  describe("fedocal meetings", () => {
    const entry = "calendar/council/2026-12-10-fedora-council-meeting-10234.yaml";
    const moved = "calendar/council/2026-12-17-fedora-council-meeting-10234.yaml";

    it("commits a new meeting's CalendarEntry on main, nothing for an unchanged update, moves it in one commit, removes it when deleted", async () => {
      const created = await accepted(meetingMessage("new", {}));
      await written();
      const doc = parse(fileAt("main", entry) ?? "") as unknown;
      const checked = calendarEntrySchema.safeParse(doc);
      expect(checked.success, JSON.stringify(checked.error?.issues)).toBe(true);
      expect(doc).toMatchObject({ apiVersion: "relengd/v1", kind: "CalendarEntry", spec: { meeting_name: "Fedora Council meeting", meeting_date: "2026-12-10", meeting_time_start: "14:00:00", meeting_manager: ["jflory7", "amoloney"], meeting_region: null } });
      const [head] = mainCommits();
      expect(head?.info).toMatchObject({ messageId: created.messageId, topic: "org.fedoraproject.prod.fedocal.meeting.new", problems: [] });
      expect(head?.info?.subject).toBe("fedocal: meeting 10234 created: Fedora Council meeting (council, 2026-12-10)");

      // The same meeting again (fedocal sends update on any save): no commit.
      const same = await ingest(meetingMessage("update", {}, { sentAt: "2026-12-01T11:00:00+00:00" }));
      expect(same.outcome).toBe("ignored");
      expect(same.reason).toMatch(/unchanged/);
      expect(await events.shadow.countQueued()).toBe(0);

      // Moved a week later, and its start written without seconds: the old file removed in the same commit.
      const move = await accepted(meetingMessage("update", { meeting_date: "2026-12-17", meeting_date_end: "2026-12-17", meeting_time_start: "15:00" }, { sentAt: "2026-12-02T10:00:00+00:00" }));
      await written();
      const [moveCommit] = mainCommits();
      expect(moveCommit?.info?.messageId).toBe(move.messageId);
      expect(changedIn(moveCommit?.sha ?? "")).toEqual([`A\t${moved}`, `D\t${entry}`]);
      expect(fileAt("main", entry)).toBeNull();
      expect(parse(fileAt("main", moved) ?? "")).toMatchObject({ spec: { meeting_date: "2026-12-17", meeting_time_start: "15:00:00" } });
      expect(moveCommit?.info?.problems).toEqual(['/spec/meeting_time_start fedocal says "15:00"; fedocal writes times as HH:MM:SS; written as 15:00:00']);

      // An older message (by sent-at) arriving late changes nothing.
      const late = await ingest(meetingMessage("update", { meeting_name: "Old name" }, { sentAt: "2026-12-01T12:00:00+00:00" }));
      expect(late.outcome).toBe("ignored");
      expect(late.reason).toMatch(/older/);

      const deleted = meetingMessage("delete", { meeting_date: "2026-12-17" }, { sentAt: "2026-12-03T10:00:00+00:00" });
      await accepted(deleted);
      await written();
      const [deleteCommit] = mainCommits();
      expect(deleteCommit?.info).toMatchObject({ messageId: deleted.id, topic: "org.fedoraproject.prod.fedocal.meeting.delete" });
      expect(changedIn(deleteCommit?.sha ?? "")).toEqual([`D\t${moved}`]);
      expect(fileAt("main", moved)).toBeNull();
      expect(await events.observed.meeting(10234)).toMatchObject({ state: "deleted", path: moved });

      // Redelivered: a duplicate; deleted again (another message): nothing to remove.
      expect((await ingest(deleted)).outcome).toBe("duplicate");
      const again = await ingest(meetingMessage("delete", {}, { sentAt: "2026-12-04T10:00:00+00:00" }));
      expect(again.outcome).toBe("ignored");
      expect(again.reason).toMatch(/removed already/);
      expect(await events.shadow.countQueued()).toBe(0);
    });

    it("ignores the delete of a meeting it never mirrored, and a late new of it", async () => {
      const commits = mainCommits().length;
      const r = await ingest(meetingMessage("delete", { meeting_id: 990001 }, { sentAt: "2026-12-05T10:00:00+00:00" }));
      expect(r.outcome).toBe("ignored");
      expect(r.reason).toMatch(/never mirrored/);
      const late = await ingest(meetingMessage("new", { meeting_id: 990001 }, { sentAt: "2026-12-04T10:00:00+00:00" }));
      expect(late.outcome).toBe("ignored");
      await written();
      expect(mainCommits()).toHaveLength(commits);
    });

    it("mirrors messy meetings anyway, each misfit in a Relengd-Schema-Problem trailer", async () => {
      const messy = meetingMessage("new", {
        meeting_id: 10240,
        meeting_name: "Release\nreadiness \ud83d meeting",
        meeting_time_start: "9:00",
        meeting_time_stop: "10:00:00.000",
        meeting_timezone: null,
        meeting_manager: "ralph, pingou,",
        meeting_location: 42,
        meeting_date_end: "2026-12-01",
        meeting_information: null,
      });
      const r = await accepted(messy);
      expect(r.reason).toMatch(/cannot hold all of it/);
      await written();
      const [head] = mainCommits();
      const problems = head?.info?.problems ?? [];
      for (const field of ["meeting_name", "meeting_time_start", "meeting_time_stop", "meeting_timezone", "meeting_manager", "meeting_location", "meeting_date_end"]) {
        expect(problems.some((p) => p.startsWith(`/spec/${field} `)), field).toBe(true);
      }
      expect(problems.every((p) => !p.includes("\n"))).toBe(true);
      const file = "calendar/council/2026-12-10-release-readiness-meeting-10240.yaml";
      const doc = parse(fileAt("main", file) ?? "") as { spec: Record<string, unknown> };
      expect(doc.spec).toMatchObject({ meeting_name: "Release readiness \ufffd meeting", meeting_time_start: "09:00:00", meeting_time_stop: "10:00:00", meeting_timezone: "UTC", meeting_manager: ["ralph", "pingou"], meeting_information: null });
      expect(doc.spec).not.toHaveProperty("meeting_location");
      expect(calendarEntrySchema.safeParse(doc).success).toBe(true);
    });

    it("mirrors the fixture's own message (placeholders and all), naming the calendar that disagrees", async () => {
      const real = { ...requestMessage("fedocal.meeting.new/000.json"), id: uniq("fixture-meeting") };
      await accepted(real);
      await written();
      const [head] = mainCommits();
      expect(head?.info?.problems.some((p) => p.startsWith("/calendar "))).toBe(true);
      expect(fileAt("main", "calendar/awesome/2013-09-20-wat-42.yaml")).not.toBeNull();
    });

    it("refuses calendar names that leave calendar/, keeps traversal out of the slug, and ignores other publishers and topics", async () => {
      const queuedBefore = (await events.shadow.changes()).length;
      for (const calendar of ["../../etc", "a/b", "..", ".hidden", "council\ud800", "x\\y"]) {
        const r = await ingest(meetingMessage("new", { meeting_id: 10250, calendar_name: calendar }));
        expect(r.outcome, calendar).toBe("rejected");
        expect(r.reason).toMatch(/^\/body\/meeting\/calendar_name /);
      }
      for (const [meeting, field] of [
        [{ meeting_id: "10250" }, "/body/meeting/meeting_id"],
        [{ meeting_id: -1 }, "/body/meeting/meeting_id"],
        [{ meeting_date: "2026-02-30" }, "/body/meeting/meeting_date"],
        [{ meeting_date: "../../x" }, "/body/meeting/meeting_date"],
      ] as const) {
        const r = await ingest(meetingMessage("new", meeting));
        expect(r.outcome).toBe("rejected");
        expect(r.reason.startsWith(`${field} `)).toBe(true);
      }
      expect((await ingest({ ...meetingMessage("new", {}), body: { meeting: "x" } })).reason).toMatch(/^\/body\/meeting /);
      expect((await events.shadow.changes()).length).toBe(queuedBefore);

      // A name is only a slug: traversal in it stays inside calendar/<calendar>/.
      await accepted(meetingMessage("new", { meeting_id: 10251, meeting_name: "../../../etc/passwd" }));
      // A calendar name with spaces is made a calendar name, and said so.
      await accepted(meetingMessage("new", { meeting_id: 10252, calendar_name: "Fedora Release" }));
      await written();
      expect(fileAt("main", "calendar/council/2026-12-10-etc-passwd-10251.yaml")).not.toBeNull();
      expect(fileAt("main", "calendar/Fedora-Release/2026-12-10-fedora-council-meeting-10252.yaml")).not.toBeNull();
      const tree = git(remote, "ls-tree", "-r", "--name-only", "main").trim().split("\n");
      expect(tree.every((f) => f === "README.md" || /^calendar\/[A-Za-z0-9_][A-Za-z0-9._+-]*\/[0-9-]+[a-z0-9-]+\.yaml$/.test(f))).toBe(true);

      for (const [envelope, reason] of [
        [meetingMessage("new", {}, { topic: "org.fedoraproject.stg.fedocal.meeting.new" }), /not Fedora's production fedocal/],
        [meetingMessage("new", {}, { topic: "org.fedoraproject.dev.fedocal.meeting.new" }), /not Fedora's production fedocal/],
        [{ ...requestMessage("fedocal.meeting.reminder/000.json"), id: uniq("reminder") }, /reminder/],
        [{ ...requestMessage("fedocal.calendar.new/000.json"), id: uniq("calendar-new") }, /changes a calendar/],
        [{ ...requestMessage("fedocal.calendar.delete/000.json"), id: uniq("calendar-delete") }, /changes a calendar/],
      ] as const) {
        const r = await ingest(envelope);
        expect(r.outcome, envelope.topic).toBe("ignored");
        expect(r.reason).toMatch(reason);
      }
    });

    it("finishes a move and a delete after a restart, and never writes a change twice after a crash", async () => {
      await accepted(meetingMessage("new", { meeting_id: 10260, meeting_name: "QA meeting" }, { sentAt: "2026-12-01T10:00:00+00:00" }));
      await written();
      // Queued, then the process stops before its writer runs.
      const move = await accepted(meetingMessage("update", { meeting_id: 10260, meeting_name: "QA meeting", meeting_date: "2026-12-11" }, { sentAt: "2026-12-01T11:00:00+00:00" }));
      const restarted = newWriter("ws-restarted.git");
      await written(restarted);
      const [head] = mainCommits();
      expect(head?.info?.messageId).toBe(move.messageId);
      expect(changedIn(head?.sha ?? "")).toEqual(["A\tcalendar/council/2026-12-11-qa-meeting-10260.yaml", "D\tcalendar/council/2026-12-10-qa-meeting-10260.yaml"]);

      // Crash after the push, before the store was told: the next writer finds the commit by its message id.
      const del = await accepted(meetingMessage("delete", { meeting_id: 10260, meeting_name: "QA meeting", meeting_date: "2026-12-11" }, { sentAt: "2026-12-01T12:00:00+00:00" }));
      await written(restarted);
      await database.db.transaction((tx) => tx.updateTable("ShadowChange").set({ status: "queued", commitSha: null, writtenAt: null }).where("messageId", "=", del.messageId).execute());
      const third = newWriter("ws-third.git");
      await written(third);
      await restarted.stop();
      await third.stop();
      expect(mainCommits().filter((c) => c.info?.messageId === del.messageId)).toHaveLength(1);
      expect(fileAt("main", "calendar/council/2026-12-11-qa-meeting-10260.yaml")).toBeNull();
    });
  });

  describe("Koji side tags", () => {
    const sideTag = "f31-build-side-20267";

    it("observes the side tag of a package-list change (the real message), and keeps tagging a build into it a Koji tag change", async () => {
      const real = { ...(fixtureJson("buildsys.package.list.change/000.json") as unknown as Envelope), id: uniq("plc") };
      const r = await accepted(real);
      expect(r.reason).toMatch(/side tag f31-build-side-20267 of f31-build \(owner releng\) first seen; package list: add rust-dua-cli/);
      const tag = { ...(fixtureJson("buildsys.tag/000.json") as unknown as Envelope), id: uniq("tag") };
      tag.body = { ...tag.body, tag: sideTag, name: "rust-dua-cli", version: "2.10.2", release: "1.fc31", build_id: 1457910, user: "releng" };
      const tagged = await accepted(tag);
      expect(tagged.reason).toMatch(/^observed: rust-dua-cli-2\.10\.2-1\.fc31 tagged into f31-build-side-20267 \(first seen\); side tag/);
      expect(await events.kojiTags.find(sideTag, "rust-dua-cli-2.10.2-1.fc31")).toMatchObject({ tagged: true });
      const init = { ...(fixtureJson("buildsys.repo.init/000.json") as unknown as Envelope), id: uniq("repo-init") };
      init.body = { ...init.body, tag: sideTag, tag_id: 20267 };
      await accepted(init);
      const removed = { ...real, id: uniq("plc-remove"), body: { ...real.body, package: "rust-ripgrep", action: "add" } };
      await accepted(removed);
      await accepted({ ...real, id: uniq("plc-remove-2"), body: { ...real.body, action: "remove" } });
      const [observed] = await events.observed.sideTags({ owner: "releng" });
      expect(observed).toMatchObject({ name: sideTag, baseTag: "f31-build", tagId: 20267, owner: "releng", packages: ["rust-ripgrep"], messages: 5, lastTopic: "buildsys.package.list.change" });
    });

    it("loses no package when package-list changes of one side tag are ingested at once", async () => {
      const real = fixtureJson("buildsys.package.list.change/000.json") as unknown as Envelope;
      // Four at once: each loses at most three races, within the ingest's retries.
      const packages = Array.from({ length: 4 }, (_, i) => `rust-crate-${i}`);
      const results = await Promise.all(packages.map((p) => ingest({ ...real, id: uniq("concurrent"), body: { ...real.body, tag: "f44-build-side-424242", package: p } })));
      expect(results.map((r) => r.outcome)).toEqual(packages.map(() => "accepted"));
      const [tag] = await events.observed.sideTags({ baseTag: "f44-build" });
      expect(tag).toMatchObject({ name: "f44-build-side-424242", packages, messages: packages.length });
    });

    it("leaves other tags' messages as they were, and ignores other Kojis", async () => {
      const plain = await ingest({ ...(fixtureJson("buildsys.package.list.change/001.json") as unknown as Envelope), id: uniq("plc-f31") });
      expect(plain.outcome).toBe("ignored");
      // Bodhi's tags derived from a side tag are not side tags: a plain Koji tag change.
      const bodhiTag = { ...(fixtureJson("buildsys.tag/000.json") as unknown as Envelope), id: uniq("signing") };
      bodhiTag.body = { ...bodhiTag.body, tag: "f31-build-side-20267-signing-pending" };
      expect((await accepted(bodhiTag)).reason).not.toMatch(/side tag/);
      const stg = { ...(fixtureJson("buildsys.package.list.change/000.json") as unknown as Envelope), id: uniq("stg"), topic: "org.fedoraproject.stg.buildsys.package.list.change" };
      expect((await ingest(stg)).reason).toMatch(/stg.* Koji/);
      const s390 = { ...(fixtureJson("buildsys.package.list.change/000.json") as unknown as Envelope), id: uniq("s390") };
      s390.body = { ...s390.body, tag: "f31-build-side-777", instance: "s390" };
      expect((await ingest(s390)).outcome).toBe("ignored");
      // A broken tag message on a side tag is rejected as any broken tag message is.
      const broken = { ...(fixtureJson("buildsys.tag/000.json") as unknown as Envelope), id: uniq("broken") };
      broken.body = { ...broken.body, tag: "f31-build-side-778", release: null };
      expect((await ingest(broken)).outcome).toBe("rejected");
      const wrongAction = { ...(fixtureJson("buildsys.package.list.change/000.json") as unknown as Envelope), id: uniq("wrong") };
      wrongAction.body = { ...wrongAction.body, tag: "f31-build-side-779", action: ["add"] };
      expect((await ingest(wrongAction)).reason).toMatch(/^\/body\/action /);
      const names = (await events.observed.sideTags()).map((s) => s.name);
      expect(names).not.toContain("f31-build-side-777");
      expect(names).not.toContain("f31-build-side-778");
      expect(names).not.toContain("f31-build-side-20267-signing-pending");
    });
  });
});

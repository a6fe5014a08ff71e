// `relengd bus replay`: captured messages through a running server's POST /api/v1/events, as a person replays a datagrepper export.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderDatagrepperMessage } from "../../src/bus/capture.js";
import { TokenService } from "../../src/auth/tokens.js";
import { loadConfig } from "../../src/config.js";
import { parseEnvelope } from "../../src/domain/envelope.js";
import { startServer, type RunningServer } from "../../src/main.js";
import { repoRoot, runRelengd } from "../support/cliProcess.js";
import { fixtureJson } from "../support/fedoraMessages.js";
import { cleanEnv } from "../support/serverProcess.js";

const FIXTURES = path.join(repoRoot, "test/fixtures/fedora-messages");

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("relengd bus replay against a running server", () => {
  let dir: string;
  let server: RunningServer;
  let admin: string;
  let reader: string;
  let shadowRemote: string;

  const relengd = (args: string[], token = admin) => runRelengd(["bus", "replay", ...args], { ...cleanEnv(), RELENGD_URL: server.url, RELENGD_TOKEN: token });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-replay-"));
    const secret = `replay-test-secret-${process.pid}-0123456789abcdef`;
    const config = loadConfig({
      RELENGD_DATA_DIR: dir,
      RELENGD_DATABASE_URL: `file:${path.join(dir, "relengd.db")}`,
      RELENGD_POLICIES_DIR: path.join(repoRoot, "policies"),
      RELENGD_PORT: "0",
      RELENGD_TOKEN_SECRET: secret,
    });
    shadowRemote = config.shadowRepo;
    server = await startServer(config, pino({ level: "silent" }));
    const tokens = new TokenService(secret);
    admin = (await tokens.issue({ subject: "replayer", role: "admin", ttlSeconds: 600 })).token;
    reader = (await tokens.issue({ subject: "watcher", role: "reader", ttlSeconds: 600 })).token;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("replays the fixtures folder through the mapping and sums up by topic; the effects land in the store and the shadow repository", async () => {
    const run = await relengd([FIXTURES, "--output", "json"]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { messages: number; outcomes: Record<string, number>; byTopic: Record<string, Record<string, number>>; rejected: unknown[] };
    expect(summary.messages).toBe(126);
    // buildsys.package.list.change/000 is about side tag f31-build-side-20267: observed (issue 17).
    expect(summary.outcomes).toEqual({ accepted: 21, waiting: 1, ignored: 104, deferred: 0, duplicate: 0, rejected: 0 });
    // WaiverDB's production waiver is recorded; the staging one, naming only a result id, is not.
    expect(summary.byTopic["waiverdb.waiver.new"]).toMatchObject({ accepted: 1, ignored: 1 });
    expect(summary.byTopic["bodhi.update.request.testing"]).toMatchObject({ accepted: 2, ignored: 1 });
    expect(summary.byTopic["buildsys.tag"]).toMatchObject({ accepted: 1, ignored: 1 });
    expect(summary.rejected).toEqual([]);
    // Not a terminal: no progress line, only the note on order (most fixtures carry no sent-at).
    expect(run.stderr).toBe("some messages do not say when they were sent: replaying in file order\n");

    const get = (route: string) => fetch(`${server.url}${route}`, { headers: { authorization: `Bearer ${reader}` } }).then((r) => r.json());
    expect(await get("/api/v1/koji-tags/f31-updates-pending/observed")).toMatchObject({ builds: [{ nvr: "http-parser-2.9.3-1.fc31" }] });
    expect(await get("/api/v1/artifacts/koji-build-612324")).toMatchObject({ package: "ansible", source: { event: "mirror" } });
    // The shadow writer polls the queue the replay filled.
    const branches = () => execFileSync("git", ["for-each-ref", "--format=%(refname:short)", "refs/heads/"], { cwd: shadowRemote, encoding: "utf8" }).trim().split("\n");
    await until("the shadow repository to have every merge request", () => branches().filter((b) => b.startsWith("mr/")).length === 11);
    expect(branches()).toContain("mr/FEDORA-2019-d64d0caab3");
  });

  it("replays again without changing anything: every message is a duplicate", async () => {
    const run = await relengd([FIXTURES]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TOPIC\s+ACCEPTED\s+WAITING\s+IGNORED\s+DUPLICATE\s+REJECTED$/);
    expect(lines.at(-1)).toMatch(/^total\s+0\s+0\s+0\s+126\s+0$/);
    expect(lines).toContainEqual(expect.stringMatching(/^bodhi\.update\.request\.testing\s+0\s+0\s+0\s+3\s+0$/));
  });

  it("replays a datagrepper export oldest first, rejects what is not a message, names it, and exits 1", async () => {
    const envelope = (id: string, sent: string, nvr: [string, string, string]) => {
      const parsed = parseEnvelope({ id, topic: "org.fedoraproject.prod.buildsys.tag", headers: { "sent-at": sent }, body: { tag: "f45-replay", name: nvr[0], version: nvr[1], release: nvr[2], instance: "primary" } });
      if (!parsed.ok) throw new Error("bad envelope");
      return parsed.value;
    };
    const run = `${process.pid}-${Date.now()}`;
    // Newest first, as datagrepper lists: the untag must come after the tag it undoes.
    const tag = envelope(`${run}-tag`, "2026-11-20T10:00:00Z", ["bash", "5.2", "1.fc45"]);
    const untag = { ...envelope(`${run}-untag`, "2026-11-20T11:00:00Z", ["bash", "5.2", "1.fc45"]), topic: "org.fedoraproject.prod.buildsys.untag" };
    const other = envelope(`${run}-other`, "2026-11-20T10:30:00Z", ["zsh", "5.9", "1.fc45"]);
    const file = path.join(dir, "export.jsonl");
    writeFileSync(
      file,
      [renderDatagrepperMessage(untag), renderDatagrepperMessage(other), renderDatagrepperMessage(tag)].map((m) => JSON.stringify(m)).join("\n") +
        `\n{"msg_id": "${run}-broken", "topic": "org.fedoraproject.prod.buildsys.tag", "timestamp": 1795600000, "msg": {"tag": "f45-replay"}}\nnot json\n`,
    );
    const res = await relengd([file, "--output", "json"]);
    expect(res.code).toBe(1);
    const summary = JSON.parse(res.stdout) as { outcomes: Record<string, number>; rejected: { where: string; messageId: string | null; reason: string }[] };
    expect(summary.outcomes).toMatchObject({ accepted: 3, rejected: 2 });
    expect(summary.rejected).toEqual([
      { where: expect.stringMatching(/export\.jsonl:5$/), messageId: null, topic: null, reason: expect.stringMatching(/^\/ not JSON/) },
      { where: expect.stringMatching(/export\.jsonl:4$/), messageId: `${run}-broken`, topic: "org.fedoraproject.prod.buildsys.tag", reason: expect.stringContaining("/body/name") },
    ]);
    // Replayed in sending order: tagged, then untagged; the other build stays.
    const observed = (await fetch(`${server.url}/api/v1/koji-tags/f45-replay/observed`, { headers: { authorization: `Bearer ${reader}` } }).then((r) => r.json())) as { builds: { nvr: string }[] };
    expect(observed.builds.map((b) => b.nvr)).toEqual(["zsh-5.9-1.fc45"]);
  });

  it("draws one progress line on a terminal", async () => {
    const file = path.join(dir, "one.json");
    writeFileSync(file, JSON.stringify({ ...fixtureJson("bodhi.update.comment/000.json"), id: `${process.pid}-tty` }));
    // `script` gives the CLI a terminal, as a person running it has.
    const command = [process.execPath, "--import", "tsx", path.join(repoRoot, "src/cli/main.ts"), "bus", "replay", file].map((a) => `'${a}'`).join(" ");
    // Not spawnSync: the server answering the CLI runs in this very process.
    const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: repoRoot, env: { ...cleanEnv(), RELENGD_URL: server.url, RELENGD_TOKEN: admin, TERM: "dumb" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    expect(code, output).toBe(0);
    expect(output).toMatch(/\r\[#{30}\] 1\/1 ignored 1/);
  });

  it("refuses a path with no messages, and a token that may not post events", async () => {
    const empty = mkdtempSync(path.join(dir, "empty-"));
    const none = await relengd([empty]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no *.json or *.jsonl files in it");
    const forbidden = await relengd([path.join(FIXTURES, "buildsys.tag")], reader);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/relengd answered 403/);
  });
});

describe("relengd bus topics", () => {
  it("prints the bindings the consumer binds, from RELENGD_AMQP_TOPICS or the defaults, and says other topics never arrive", async () => {
    const topics = "org.fedoraproject.prod.buildsys.tag,org.fedoraproject.stg.bodhi.update.#";
    const env = { ...cleanEnv(), RELENGD_AMQP_URL: "amqp://guest:guest@127.0.0.1:5672", RELENGD_AMQP_TOPICS: topics, RELENGD_AMQP_QUEUE: "relengd-stg" };
    const [json, table, defaults] = await Promise.all([
      runRelengd(["bus", "topics", "--output", "json"], env),
      runRelengd(["bus", "topics"], env),
      runRelengd(["bus", "topics", "--output", "json"], cleanEnv()),
    ]);
    expect(json.code, json.stderr).toBe(0);
    // What the consumer binds its queue with (config.amqp), not a second reading of the variable.
    const consumerBindings = loadConfig(env).amqp?.topics;
    expect(JSON.parse(json.stdout)).toMatchObject({ exchange: "amq.topic", queue: "relengd-stg", consuming: true, topics: consumerBindings });
    expect(consumerBindings).toEqual(topics.split(","));

    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain("queue relengd-stg on exchange amq.topic (the consumer is on) is bound to:\n  org.fedoraproject.prod.buildsys.tag\n  org.fedoraproject.stg.bodhi.update.#\n");
    expect(table.stdout).toMatch(/Neighbouring topics .* are not received, by design/);

    expect(defaults.code, defaults.stderr).toBe(0);
    expect(JSON.parse(defaults.stdout)).toMatchObject({ consuming: false, topics: loadConfig({ ...cleanEnv(), RELENGD_AMQP_URL: "amqp://x" }).amqp?.topics });
  });
});

// Facts sources: the shipped example set and the fixtures' shapes load, broken or missing sources stay unknown, a failed refresh keeps the last good value, URLs are fetched with a timeout and a size cap, and the allowed-signers file verifies real SSH signatures.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { factSources, parseFactFile, parseFactsConfig, renderAllowedSigners, type Facts, type FactsConfig } from "../../src/domain/requests/facts.js";
import { FactsHolder, loadFactSource, writeAllowedSigners, type Every } from "../../src/policy/facts.js";
import { loadPolicies } from "../../src/policy/loader.js";

const SHIPPED = path.resolve(__dirname, "../../policies");
// The request fixtures (read-only, beside the repository: ../shared/fixtures/requests).
const fixtureFacts = path.resolve(__dirname, "../../../shared/fixtures/requests/facts");

const config = (sources: FactsConfig["spec"]["sources"], refresh = "15m"): FactsConfig => {
  const parsed = parseFactsConfig({ apiVersion: "relengd/v1", kind: "Facts", spec: { refresh, sources } });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
};

const at = (iso: string) => () => new Date(iso);

describe("facts files", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-facts-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loads every source of the shipped example set as policies/facts.yaml configures it", async () => {
    const set = loadPolicies(SHIPPED, "data/gitops.git");
    expect(set.facts?.spec.refresh).toBe("15m");
    expect(Object.keys(set.facts?.spec.sources ?? {}).sort()).toEqual([...factSources].sort());
    const holder = new FactsHolder(set.facts, { baseDir: SHIPPED, now: at("2026-12-01T00:00:00Z") });
    const facts = await holder.refresh();
    expect(facts.status.filter((s) => s.error !== undefined)).toEqual([]);
    expect(facts.status.map((s) => s.source).sort()).toEqual([...factSources].sort());
    expect(facts.values.packageAcls?.get("rpms")?.get("nethack")).toEqual(["jdoe", "asmith"]);
    expect(facts.values.packageAccess?.get("rpms")?.get("python-requests")?.commit).toEqual(["@python-packagers-sig"]);
    expect(facts.values.groups?.get("provenpackager")?.has("mlopez")).toBe(true);
    expect(facts.values.distgit?.get("rpms")?.get("sudoku")?.has("epel9")).toBe(true);
    expect(facts.values.rhel?.get("9")?.has("python-requests")).toBe(true);
    expect(facts.values.releaseBranches?.has("f43")).toBe(true);
    expect(facts.values.scmRequestProcessor?.monitorChoices).toContain("monitoring-with-scratch");
    expect(facts.values.kojiSidetag?.baseTagsAllowed.has("f43-build")).toBe(true);
    expect(facts.status[0]?.loadedAt).toEqual(new Date("2026-12-01T00:00:00Z"));
  });

  it("reads the fixtures' request processor (toddlers and poddlers) and Koji side-tag files as they are", () => {
    for (const name of ["scm-request-processor/toddlers.json", "scm-request-processor/poddlers.json"]) {
      const raw = JSON.parse(readFileSync(path.join(fixtureFacts, name), "utf8")) as unknown;
      const parsed = parseFactFile("scmRequestProcessor", raw);
      if (!parsed.ok) throw new Error(parsed.error);
      expect(parsed.value.monitorChoices).toContain("monitoring");
      // Kept verbatim, even dates that do not exist.
      expect(parsed.value.branchSlas.get("epel10.8")?.get("bug_fixes")).toBe("2029-11-31");
      expect(parsed.value.branchSlas.get("rawhide")?.get("rawhide")).toBe("2222-01-01");
    }
    const koji = parseFactFile("kojiSidetag", JSON.parse(readFileSync(path.join(fixtureFacts, "koji-sidetag.json"), "utf8")) as unknown);
    if (!koji.ok) throw new Error(koji.error);
    expect([...koji.value.baseTagsAllowed]).toEqual(["f43-build", "f42-build", "f41-build", "eln-build", "epel10.1-build", "epel10.0-build", "epel9-next-build", "epel9-build", "epel8-build"]);
    // The shipped copies are the fixtures' files.
    expect(readFileSync(path.join(SHIPPED, "facts/koji-sidetag.json"), "utf8")).toBe(readFileSync(path.join(fixtureFacts, "koji-sidetag.json"), "utf8"));
    expect(readFileSync(path.join(SHIPPED, "facts/poddlers.json"), "utf8")).toBe(readFileSync(path.join(fixtureFacts, "scm-request-processor/poddlers.json"), "utf8"));
  });

  it("refuses names that are no names, a lone surrogate and a key that would add a line to allowed-signers", () => {
    expect(parseFactFile("groups", { packager: ["jdoe", "a b"] })).toEqual({ ok: false, error: "/packager/1: must be a user name (letters, digits and ._-)" });
    expect(parseFactFile("groups", { packager: ["j\ud800"] })).toMatchObject({ ok: false, error: expect.stringContaining("well-formed Unicode") });
    expect(parseFactFile("packageAcls", { rpms: { "../etc": ["jdoe"] } })).toMatchObject({ ok: false, error: "/rpms/..~1etc: is not an allowed key: it must be a package name (letters, digits and -_.+)" });
    expect(parseFactFile("signingKeys", { jdoe: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxG jdoe\nmallory namespaces=\"git\" ssh-ed25519 AAAA"] }).ok).toBe(false);
    expect(parseFactFile("signingKeys", { "*": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxGxGxGxGxG"] }).ok).toBe(false);
    expect(parseFactFile("releaseBranches", { f44: true })).toMatchObject({ ok: false, error: "/: must be a list, not an object" });
    // Names that are Object.prototype's are plain keys.
    const groups = parseFactFile("groups", JSON.parse('{"constructor": ["jdoe"], "toString": []}'));
    expect(groups.ok && groups.value.get("constructor")?.has("jdoe")).toBe(true);
    // A __proto__ entry is dropped, never made a prototype.
    const proto = parseFactFile("packageAcls", JSON.parse('{"rpms": {"__proto__": ["mallory"], "nethack": ["jdoe"]}}'));
    expect(proto.ok && [...(proto.value.get("rpms")?.keys() ?? [])]).toEqual(["nethack"]);
    expect(proto.ok && Object.getPrototypeOf(proto.value.get("rpms"))).toBe(Map.prototype);
    const many = parseFactFile("groups", { a: [1, 2, 3, 4, 5, 6, 7] });
    expect(many).toMatchObject({ ok: false, error: expect.stringMatching(/; and 2 more$/) });
  });

  it("says why a file does not load: missing, not JSON, wrong shape, too large, outside the folder through a symlink", async () => {
    const base = path.join(dir, "policies");
    mkdirSync(path.join(base, "facts"), { recursive: true });
    writeFileSync(path.join(base, "facts/broken.json"), '{"packager": [');
    writeFileSync(path.join(base, "facts/shape.json"), '{"packager": "jdoe"}');
    writeFileSync(path.join(base, "facts/big.json"), JSON.stringify({ packager: Array.from({ length: 200 }, (_, i) => `user${i}`) }));
    writeFileSync(path.join(dir, "secret.json"), '{"packager": ["root"]}');
    symlinkSync(path.join(dir, "secret.json"), path.join(base, "facts/escape.json"));
    writeFileSync(path.join(base, "facts/latin1.json"), Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x5b, 0x5d, 0x7d]));
    const options = { baseDir: base, maxBytes: 1000 };
    expect(await loadFactSource("groups", "facts/none.json", options)).toEqual({ ok: false, error: `facts/none.json does not exist in ${base}` });
    // V8's position, when it gives one, is kept; the text around it is not.
    expect(await loadFactSource("groups", "facts/broken.json", options)).toEqual({ ok: false, error: expect.stringMatching(/^facts\/broken\.json is not JSON( \(at position \d+\))?$/) });
    expect(await loadFactSource("groups", "facts/shape.json", options)).toEqual({ ok: false, error: "facts/shape.json: /packager: must be a list, not a string" });
    expect(await loadFactSource("groups", "facts/big.json", options)).toEqual({ ok: false, error: "facts/big.json is larger than 1000 bytes" });
    expect(await loadFactSource("groups", "facts/escape.json", options)).toEqual({ ok: false, error: `facts/escape.json leads outside ${base}` });
    expect(await loadFactSource("groups", "facts/latin1.json", options)).toEqual({ ok: false, error: "facts/latin1.json is not UTF-8 text" });
    expect(await loadFactSource("groups", "../secret.json", options)).toEqual({ ok: false, error: "../secret.json is not a path inside the policies folder" });
    expect(await loadFactSource("groups", "facts", options)).toEqual({ ok: false, error: "facts is not a file" });
    expect(await loadFactSource("groups", "http://example.org/groups.json", options)).toEqual({ ok: false, error: "http://example.org/groups.json is not an https URL" });
  });

  it("keeps a source's last good value when a refresh fails, and a source that never loaded stays unknown", async () => {
    const base = path.join(dir, "refresh");
    mkdirSync(base);
    writeFileSync(path.join(base, "groups.json"), '{"packager": ["jdoe"]}');
    let now = "2026-12-01T00:00:00Z";
    const holder = new FactsHolder(config({ groups: "groups.json", rhel: "rhel.json" }), { baseDir: base, now: () => new Date(now) });
    expect(holder.get()).toEqual({ values: {}, status: [] });
    const first = await holder.refresh();
    expect(first.values.groups?.get("packager")?.has("jdoe")).toBe(true);
    expect(first.values.rhel).toBeUndefined();
    expect(first.status).toEqual([
      { source: "groups", location: "groups.json", loadedAt: new Date("2026-12-01T00:00:00Z") },
      { source: "rhel", location: "rhel.json", error: `rhel.json does not exist in ${base}` },
    ]);

    writeFileSync(path.join(base, "groups.json"), "{");
    now = "2026-12-01T00:15:00Z";
    const second = await holder.refresh();
    expect(second.values.groups?.get("packager")?.has("jdoe")).toBe(true);
    expect(second.status[0]).toEqual({ source: "groups", location: "groups.json", loadedAt: new Date("2026-12-01T00:00:00Z"), error: expect.stringMatching(/^groups\.json is not JSON/) });

    writeFileSync(path.join(base, "groups.json"), '{"packager": ["asmith"]}');
    writeFileSync(path.join(base, "rhel.json"), '{"9": ["bash"]}');
    now = "2026-12-01T00:30:00Z";
    const third = await holder.refresh();
    expect(third.values.groups?.get("packager")?.has("jdoe")).toBe(false);
    expect(third.values.rhel?.get("9")?.has("bash")).toBe(true);
    expect(third.status.every((s) => s.error === undefined && s.loadedAt?.toISOString() === "2026-12-01T00:30:00.000Z")).toBe(true);

    // A source moved elsewhere forgets the value read from the old place; one dropped is unknown.
    holder.configure(config({ groups: "elsewhere.json" }));
    expect(holder.get().values).toEqual({});
    const fourth = await holder.refresh();
    expect(fourth.values.groups).toBeUndefined();
    expect(fourth.status).toEqual([{ source: "groups", location: "elsewhere.json", error: `elsewhere.json does not exist in ${base}` }]);
  });

  it("refreshes on the configured schedule with a timer it cancels on stop, and runs one refresh at a time", async () => {
    const base = path.join(dir, "timer");
    mkdirSync(base);
    writeFileSync(path.join(base, "groups.json"), '{"packager": ["jdoe"]}');
    const armed: { ms: number; run: () => void; cancelled: boolean }[] = [];
    const every: Every = (ms, run) => {
      const t = { ms, run, cancelled: false };
      armed.push(t);
      return { cancel: () => void (t.cancelled = true) };
    };
    const holder = new FactsHolder(config({ groups: "groups.json" }, "30s"), { baseDir: base, every });
    const refreshed: Facts[] = [];
    holder.onRefresh((f) => refreshed.push(f));
    holder.start();
    holder.start();
    expect(armed.map((t) => t.ms)).toEqual([30_000]);
    await holder.refresh();
    expect(refreshed).toHaveLength(1);
    writeFileSync(path.join(base, "groups.json"), '{"packager": ["asmith"]}');
    armed[0]?.run();
    await holder.refresh();
    expect(holder.get().values.groups?.get("packager")?.has("asmith")).toBe(true);
    const a = holder.refresh();
    const b = holder.refresh();
    expect(a).toBe(b);
    await a;
    // A new schedule re-arms the timer.
    holder.configure(config({ groups: "groups.json" }, "1h"));
    expect(armed.map((t) => [t.ms, t.cancelled])).toEqual([
      [30_000, true],
      [3_600_000, false],
    ]);
    holder.stop();
    expect(armed[1]?.cancelled).toBe(true);
    // The default timer is unref'd: a holder left started does not keep the test process alive.
    const real = new FactsHolder(config({ groups: "groups.json" }), { baseDir: base });
    real.start();
    await real.refresh();
    real.stop();
  });
});

describe("facts from URLs", () => {
  let server: Server;
  let url: string;
  const hung: (() => void)[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/groups.json") return void res.end(JSON.stringify({ packager: ["jdoe"] }));
      if (req.url === "/error") return void res.writeHead(503).end("down");
      if (req.url === "/slow") return void hung.push(() => res.end("{}"));
      if (req.url === "/huge") {
        // No content-length: the cap counts the streamed bytes.
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"packager": [');
        for (let i = 0; i < 100; i++) res.write(`"${"a".repeat(60)}",`);
        return void res.end('"b"]}');
      }
      if (req.url === "/declared") return void res.writeHead(200, { "content-length": "5000" }).end("x".repeat(5000));
      if (req.url === "/away") return void res.writeHead(302, { location: "http://example.org/groups.json" }).end();
      if (req.url === "/moved") return void res.writeHead(301, { location: "/groups.json" }).end();
      if (req.url === "/loop") return void res.writeHead(302, { location: "/loop" }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const h of hung) h();
    await new Promise((resolve) => server.close(resolve));
  });

  it("fetches a source over HTTP and reports errors, timeouts and size caps without throwing", async () => {
    const options = { baseDir: SHIPPED, timeoutMs: 300, maxBytes: 2000 };
    const ok = await loadFactSource("groups", `${url}/groups.json`, options);
    expect(ok.ok && ok.value.get("packager")?.has("jdoe")).toBe(true);
    expect(await loadFactSource("groups", `${url}/error`, options)).toEqual({ ok: false, error: `${url}/error answered HTTP 503` });
    expect(await loadFactSource("groups", `${url}/slow`, options)).toEqual({ ok: false, error: `${url}/slow did not answer within 300 ms` });
    expect(await loadFactSource("groups", `${url}/huge`, options)).toEqual({ ok: false, error: `${url}/huge is larger than 2000 bytes` });
    expect(await loadFactSource("groups", `${url}/declared`, options)).toEqual({ ok: false, error: `${url}/declared is larger than 2000 bytes` });
    expect(await loadFactSource("groups", `${url}/away`, options)).toEqual({ ok: false, error: `${url}/away redirected to http://example.org/groups.json, which is not an https URL` });
    expect(await loadFactSource("groups", `${url}/loop`, options)).toEqual({ ok: false, error: `${url}/loop redirected more than 5 times` });
    expect((await loadFactSource("groups", `${url}/moved`, options)).ok).toBe(true);
  });

  it("uses an injected fetch, and keeps the last good value when the URL fails later", async () => {
    let answer: () => Promise<Response> = () => Promise.resolve(new Response(JSON.stringify(["rawhide", "f44"])));
    const holder = new FactsHolder(config({ releaseBranches: "https://fedora.example/release-branches.json" }), {
      baseDir: SHIPPED,
      fetch: () => answer(),
      now: at("2026-12-01T00:00:00Z"),
    });
    expect((await holder.refresh()).values.releaseBranches?.has("f44")).toBe(true);
    answer = () => Promise.reject(new Error("connect ECONNREFUSED"));
    const after = await holder.refresh();
    expect(after.values.releaseBranches?.has("f44")).toBe(true);
    expect(after.status).toEqual([
      {
        source: "releaseBranches",
        location: "https://fedora.example/release-branches.json",
        loadedAt: new Date("2026-12-01T00:00:00Z"),
        error: "https://fedora.example/release-branches.json cannot be fetched: connect ECONNREFUSED",
      },
    ]);
  });
});

describe("facts holder and a new configuration", () => {
  it("a configuration changed while a refresh runs is loaded after it, and its results replace the old ones", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const asked: string[] = [];
    const fetchFn: typeof fetch = async (input) => {
      const url = String(input);
      asked.push(url);
      if (url.endsWith("/old.json")) await held;
      return new Response(JSON.stringify(url.endsWith("/old.json") ? ["f42"] : ["f43"]));
    };
    const armed: number[] = [];
    const every: Every = (ms) => {
      armed.push(ms);
      return { cancel: () => undefined };
    };
    const holder = new FactsHolder(undefined, { baseDir: SHIPPED, fetch: fetchFn, every });
    // Started without a configuration: nothing to do until one comes.
    holder.start();
    expect(armed).toEqual([]);
    holder.configure(config({ releaseBranches: "https://fedora.example/old.json" }));
    expect(armed).toEqual([900_000]);
    const first = holder.refresh();
    holder.configure(config({ releaseBranches: "https://fedora.example/new.json" }, "1h"));
    const second = holder.refresh();
    expect(second).not.toBe(first);
    release();
    await first;
    const facts = await second;
    expect(facts.values.releaseBranches?.has("f43")).toBe(true);
    expect(facts.values.releaseBranches?.has("f42")).toBe(false);
    expect(facts.status.map((s) => s.location)).toEqual(["https://fedora.example/new.json"]);
    expect(asked).toContain("https://fedora.example/new.json");
    expect(armed).toEqual([900_000, 3_600_000]);
    holder.stop();
  });
});

describe("allowed signers", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-signers-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes one line per key, the comment left out, and ssh-keygen verifies a signature by it", () => {
    const key = path.join(dir, "jdoe");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "jdoe@fedoraproject.org", "-f", key]);
    const pub = readFileSync(`${key}.pub`, "utf8").trim();
    const parsed = parseFactFile("signingKeys", { jdoe: [pub], asmith: [] });
    if (!parsed.ok) throw new Error(parsed.error);
    const facts: Facts = { values: { signingKeys: parsed.value }, status: [] };
    const file = path.join(dir, "allowed_signers");
    writeAllowedSigners(facts, file);
    const text = readFileSync(file, "utf8");
    expect(text).toBe(`jdoe namespaces="git" ${pub.split(" ").slice(0, 2).join(" ")}\n`);

    const message = path.join(dir, "message");
    writeFileSync(message, "tree 1234\n");
    execFileSync("ssh-keygen", ["-Y", "sign", "-f", key, "-n", "git", message], { stdio: "ignore" });
    const verify = (principal: string) =>
      execFileSync("ssh-keygen", ["-Y", "verify", "-f", file, "-I", principal, "-n", "git", "-s", `${message}.sig`], { input: readFileSync(message), encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    expect(verify("jdoe")).toContain('Good "git" signature for jdoe');
    expect(() => verify("asmith")).toThrow();
  });

  it("writes an empty file when the signing keys are unknown, replacing the old one", () => {
    const file = path.join(dir, "empty_signers");
    writeFileSync(file, "old\n");
    writeAllowedSigners({ values: {}, status: [] }, file);
    expect(readFileSync(file, "utf8")).toBe("");
    expect(renderAllowedSigners({ values: {}, status: [] })).toBe("");
  });

  it("copies of the shipped policies folder load with the facts folder beside them", () => {
    const copy = path.join(dir, "policies");
    cpSync(SHIPPED, copy, { recursive: true });
    expect(loadPolicies(copy, "data/gitops.git").approvalPolicies.length).toBeGreaterThan(0);
  });
});

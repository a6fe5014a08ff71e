// Proof against the real implementation: relengd's RPM ordering agrees with rpm's own Python
// bindings (Debian's python3-rpm, for /usr/bin/python3) on every input tried, with zero disagreements.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareEvr, evrOfNvr, matchesEvrRange, parseEvr, renderEvr, type Evr, type EvrOperator, type Ordering } from "../../src/domain/evr.js";
import { parseNvr, renderNvr, type Nvr } from "../../src/domain/nvr.js";
import { evrCases, nvrCases, rpmvercmpCases } from "../support/rpmOrderCases.js";

// Debian's interpreter, not the pyenv one first on PATH: only it has the bindings. -I keeps
// PYTHONPATH and user site-packages from swapping in another rpm module.
const PYTHON = "/usr/bin/python3";
const fixturesDir = fileURLToPath(new URL("../fixtures", import.meta.url));

/**
 * One JSON request per line, one JSON answer per line: a whole batch per round trip, so 10,000
 * comparisons cost one pipe exchange, not 10,000.
 * label:   [[[e, v, r], [e, v, r]], ...] → rpm.labelCompare of each pair
 * overlap: [[providedEvr, op, requiredEvr], ...] → whether `Provides: x = providedEvr` meets `Requires: x op requiredEvr`
 */
const ORACLE = String.raw`
import json, sys, rpm
FLAGS = {"<": rpm.RPMSENSE_LESS, "<=": rpm.RPMSENSE_LESS | rpm.RPMSENSE_EQUAL, "=": rpm.RPMSENSE_EQUAL,
         ">=": rpm.RPMSENSE_GREATER | rpm.RPMSENSE_EQUAL, ">": rpm.RPMSENSE_GREATER}
def label(pair):
    try:
        return rpm.labelCompare(tuple(pair[0]), tuple(pair[1]))
    except Exception as e:
        return "error: %s" % e
def overlap(case):
    provided = rpm.ds(("x", rpm.RPMSENSE_EQUAL, case[0]), rpm.RPMTAG_PROVIDENAME)
    required = rpm.ds(("x", FLAGS[case[1]], case[2]), rpm.RPMTAG_REQUIRENAME)
    return bool(provided.Compare(required))
print(json.dumps({"rpm": rpm.__version__}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    handle = label if request["kind"] == "label" else overlap
    print(json.dumps([handle(item) for item in request["items"]]), flush=True)
`;

type Triple = [string | null, string, string | null];
const triple = (e: Evr): Triple => [e.epoch ?? null, e.version, e.release ?? null];

class RpmOracle {
  private readonly lines: AsyncIterator<string>;
  private stderr = "";

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    reader: Interface,
  ) {
    this.lines = reader[Symbol.asyncIterator]();
    child.stderr.setEncoding("utf8").on("data", (s: string) => (this.stderr += s));
  }

  static async start(): Promise<{ oracle: RpmOracle; version: string }> {
    const child = spawn(PYTHON, ["-I", "-c", ORACLE], { stdio: ["pipe", "pipe", "pipe"] });
    const oracle = new RpmOracle(child, createInterface({ input: child.stdout }));
    const hello = (await oracle.next()) as { rpm: string };
    return { oracle, version: hello.rpm };
  }

  private async next(): Promise<unknown> {
    const line = await this.lines.next();
    if (line.done) throw new Error(`the rpm oracle (${PYTHON}) exited: ${this.stderr}`);
    return JSON.parse(line.value);
  }

  private async ask<T>(kind: string, items: unknown[]): Promise<T[]> {
    this.child.stdin.write(JSON.stringify({ kind, items }) + "\n");
    const answers = (await this.next()) as T[];
    if (answers.length !== items.length) throw new Error(`the rpm oracle answered ${answers.length} of ${items.length} items`);
    return answers;
  }

  labelCompare(pairs: [Evr, Evr][]): Promise<(number | string)[]> {
    return this.ask("label", pairs.map(([a, b]) => [triple(a), triple(b)]));
  }

  overlap(cases: [Evr, EvrOperator, Evr][]): Promise<boolean[]> {
    return this.ask("overlap", cases.map(([p, op, r]) => [renderEvr(p), op, renderEvr(r)]));
  }

  stop(): void {
    this.child.stdin.end();
  }
}

const show = (e: Evr) => JSON.stringify(triple(e));
const symbol = (o: number | string) => (typeof o === "string" ? o : o < 0 ? "<" : o > 0 ? ">" : "==");

/** Every pair where relengd and rpm.labelCompare differ, in words. */
async function labelDisagreements(oracle: RpmOracle, pairs: [Evr, Evr][]): Promise<string[]> {
  const rpmAnswers = await oracle.labelCompare(pairs);
  const out: string[] = [];
  pairs.forEach(([a, b], i) => {
    const ours: Ordering = compareEvr(a, b);
    if (ours !== rpmAnswers[i]) out.push(`${show(a)} vs ${show(b)}: relengd ${symbol(ours)}, rpm ${symbol(rpmAnswers[i]!)}`);
  });
  return out;
}

function evr(text: string): Evr {
  const r = parseEvr(text);
  if (!r.ok) throw new Error(`${text} ${r.reason}`);
  return r.evr;
}

function nvrEvr(text: string): Evr {
  const r = parseNvr(text);
  if (!r.ok) throw new Error(`${text} ${r.reason}`);
  return evrOfNvr(r.nvr);
}

/**
 * Every NVR in the fixtures' JSON: strings koji's rules accept (`nvr`, `build` fields; also
 * compose ids, host names, update aliases, which are valid name-version-release text too) and
 * build objects that carry name, version, release and epoch apart.
 */
function fixtureNvrs(dir: string): Nvr[] {
  const found = new Map<string, Nvr>();
  const add = (nvr: Nvr) => found.set(renderNvr(nvr), nvr);
  const visit = (value: unknown): void => {
    if (typeof value === "string") {
      const r = parseNvr(value);
      if (r.ok) add(r.nvr);
    } else if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (value !== null && typeof value === "object") {
      const o = value as Record<string, unknown>;
      if (typeof o.name === "string" && typeof o.version === "string" && typeof o.release === "string") {
        const epoch = typeof o.epoch === "number" || typeof o.epoch === "string" ? String(o.epoch) : undefined;
        const r = parseNvr(`${epoch !== undefined ? `${epoch}:` : ""}${o.name}-${o.version}-${o.release}`);
        if (r.ok) add(r.nvr);
      }
      for (const [key, v] of Object.entries(o)) {
        visit(key);
        visit(v);
      }
    }
  };
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith(".json")) visit(JSON.parse(readFileSync(p, "utf8")));
    }
  };
  walk(dir);
  return [...found.values()];
}

// --- generated inputs: the alphabet that makes rpmvercmp hard, with shared prefixes so that
// comparisons get past the first segment, and long digit runs for overflow.
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("0", "1", "2", "9", "a", "b", "z", "A", "Z", ".", "_", "+", "~", "^") },
  { weight: 2, arbitrary: fc.constantFrom("00", "01", "10", "rc", "git", "pre", "fc41", "el9", "~rc", "^git", "..", "~~", "^^", "~^", "^~") },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom("0", "1", "5", "9"), minLength: 15, maxLength: 45 }) },
);
const text = fc.array(piece, { maxLength: 7 }).map((p) => p.join(""));
const nonEmptyText = fc.array(piece, { minLength: 1, maxLength: 7 }).map((p) => p.join(""));

/** Two strings that are often alike: equal, sharing a prefix, or independent. */
function alike(base: fc.Arbitrary<string>): fc.Arbitrary<[string, string]> {
  return fc.oneof(
    fc.tuple(base, base),
    fc.tuple(base, text, text).map(([p, s, t]): [string, string] => [p + s, p + t]),
    base.map((s): [string, string] => [s, s]),
  );
}

const epoch = fc.oneof(fc.constantFrom("0", "1", "2", "00", "01", "10"), fc.string({ unit: fc.constantFrom("0", "1", "9"), minLength: 1, maxLength: 25 }));
const epochs: fc.Arbitrary<[string | undefined, string | undefined]> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<[undefined, undefined]>([undefined, undefined]) },
  { weight: 2, arbitrary: epoch.map((e): [string, string] => [e, e]) },
  { weight: 3, arbitrary: fc.tuple(fc.option(epoch, { nil: undefined }), fc.option(epoch, { nil: undefined })) },
);
const releases: fc.Arbitrary<[string | undefined, string | undefined]> = fc.oneof(
  { weight: 6, arbitrary: alike(text) },
  { weight: 1, arbitrary: fc.tuple(fc.option(text, { nil: undefined }), fc.option(text, { nil: undefined })) },
);

const withParts = (e: string | undefined, version: string, release: string | undefined): Evr => ({
  ...(e !== undefined ? { epoch: e } : {}),
  version,
  ...(release !== undefined ? { release } : {}),
});

const evrPair: fc.Arbitrary<[Evr, Evr]> = fc
  .tuple(epochs, alike(nonEmptyText), releases)
  .map(([[ea, eb], [va, vb], [ra, rb]]) => [withParts(ea, va, ra), withParts(eb, vb, rb)]);

// rpm reads an epoch with atol() when only one side has one; keep those within a long.
const smallEpoch = fc.constantFrom("0", "1", "2", "00", "10");
const overlapCase: fc.Arbitrary<[Evr, EvrOperator, Evr]> = fc
  .tuple(
    fc.tuple(fc.option(smallEpoch, { nil: undefined }), fc.option(smallEpoch, { nil: undefined })),
    alike(nonEmptyText),
    fc.tuple(fc.option(nonEmptyText, { nil: undefined }), fc.option(nonEmptyText, { nil: undefined }), fc.boolean()),
    fc.constantFrom<EvrOperator>("<", "<=", "=", ">=", ">"),
  )
  // Versions and releases must not start with what rpm would read as an epoch: no ":" in the alphabet, so none can.
  .map(([[ea, eb], [va, vb], [ra, rb, sameRelease], op]) => [withParts(ea, va, ra), op, withParts(eb, vb, sameRelease ? ra : rb)]);

const GENERATED = 10_000;
const seed = Number(process.env.RPM_AGREEMENT_SEED ?? Math.floor(Math.random() * 2 ** 31));

// CI installs python3-rpm (.ci/run); anywhere it is required, its absence is a failure, not a skip.
const rpmRequired = (process.env.CI !== undefined && !["", "0", "false"].includes(process.env.CI)) || !!process.env.TEST_DATABASE_URL;
const rpmImport = spawnSync(PYTHON, ["-I", "-c", "import rpm"], { encoding: "utf8" });
const rpmAvailable = rpmImport.status === 0;
const missingRpm = `${PYTHON} cannot import rpm (${rpmImport.error?.message ?? rpmImport.stderr.trim().split("\n").pop()}); install Debian's python3-rpm (apt-get install -y python3-rpm; .ci/run does)`;

if (!rpmAvailable && !rpmRequired) console.warn(`rpm agreement suite: SKIPPED: ${missingRpm}`);

describe.skipIf(!rpmAvailable && !rpmRequired)("RPM ordering agrees with rpm.labelCompare", () => {
  let started: RpmOracle | undefined;

  beforeAll(async () => {
    if (!rpmAvailable) return;
    const s = await RpmOracle.start();
    started = s.oracle;
    console.log(`rpm agreement: rpm ${s.version} via ${PYTHON}; generated cases with seed ${seed} (RPM_AGREEMENT_SEED=${seed} repeats them)`);
  });

  afterAll(() => started?.stop());

  /** The running oracle; where rpm is required but missing, each test fails saying so. */
  function rpmOracle(): RpmOracle {
    if (!started) throw new Error(missingRpm);
    return started;
  }

  it("on every pair of same-name NVRs found in test/fixtures", async () => {
    const oracle = rpmOracle();
    const byName = new Map<string, Nvr[]>();
    for (const nvr of fixtureNvrs(fixturesDir)) byName.set(nvr.name, [...(byName.get(nvr.name) ?? []), nvr]);
    const pairs: [Evr, Evr][] = [];
    for (const builds of byName.values()) {
      for (let i = 0; i < builds.length; i++) for (let j = 0; j < builds.length; j++) if (i !== j) pairs.push([evrOfNvr(builds[i]!), evrOfNvr(builds[j]!)]);
    }
    // The fixtures hold a few hundred same-name pairs (python38 pre-releases with ~, compose ids, update aliases); fewer means the walk broke.
    expect(pairs.length).toBeGreaterThan(500);
    expect(await labelDisagreements(oracle, pairs)).toEqual([]);
  });

  it("on the hand-written table of tricky cases, and the table says what rpm says", async () => {
    const oracle = rpmOracle();
    // Each rpmvercmp case in the release (where rpm allows any string, empty too) and, when rpm
    // accepts it there, in the version.
    const pairs: [Evr, Evr][] = [];
    const expected: Ordering[] = [];
    for (const [a, b, order] of rpmvercmpCases) {
      pairs.push([{ version: "1", release: a }, { version: "1", release: b }]);
      expected.push(order);
      if (a !== "" && b !== "") {
        pairs.push([{ version: a }, { version: b }]);
        expected.push(order);
      }
    }
    for (const [a, b, order] of evrCases) {
      pairs.push([evr(a), evr(b)]);
      expected.push(order);
    }
    for (const [a, b, order] of nvrCases) {
      pairs.push([nvrEvr(a), nvrEvr(b)]);
      expected.push(order);
    }
    const rpmAnswers = await oracle.labelCompare(pairs);
    const tableWrong = pairs.flatMap(([a, b], i) => (rpmAnswers[i] === expected[i] ? [] : [`${show(a)} vs ${show(b)}: table ${symbol(expected[i]!)}, rpm ${symbol(rpmAnswers[i]!)}`]));
    expect(tableWrong).toEqual([]);
    expect(await labelDisagreements(oracle, pairs)).toEqual([]);
  });

  it(`on ${GENERATED} generated EVR pairs over digits, letters and . _ + ~ ^`, async () => {
    const oracle = rpmOracle();
    const pairs = fc.sample(evrPair, { numRuns: GENERATED, seed });
    const disagreements = await labelDisagreements(oracle, pairs);
    expect(disagreements, `seed ${seed}`).toEqual([]);
    // The generator must exercise every outcome and the tie-breaking parts, or agreement proves little.
    const outcomes = new Set(pairs.map(([a, b]) => compareEvr(a, b)));
    expect([...outcomes].sort()).toEqual([-1, 0, 1]);
    const decidedByRelease = pairs.filter(([a, b]) => compareEvr({ ...a, release: "" }, { ...b, release: "" }) === 0 && compareEvr(a, b) !== 0).length;
    expect(decidedByRelease).toBeGreaterThan(GENERATED / 20);
    const count = (o: Ordering) => pairs.filter(([a, b]) => compareEvr(a, b) === o).length;
    const marked = pairs.filter(([a, b]) => /[~^]/.test(`${a.version}${a.release ?? ""}${b.version}${b.release ?? ""}`)).length;
    console.log(`rpm agreement: ${pairs.length} generated pairs: ${count(-1)} <, ${count(0)} ==, ${count(1)} >; ${decidedByRelease} decided by the release; ${marked} with ~ or ^`);
  });

  it("on generated EVR range constraints, as rpm decides whether a Provides meets a Requires", async () => {
    const oracle = rpmOracle();
    const cases = fc.sample(overlapCase, { numRuns: 3_000, seed });
    const rpmAnswers = await oracle.overlap(cases);
    const disagreements = cases.flatMap(([provided, op, bound], i) => {
      const ours = matchesEvrRange(provided, [{ operator: op, evr: bound }]);
      return ours === rpmAnswers[i] ? [] : [`${renderEvr(provided)} ${op} ${renderEvr(bound)}: relengd ${ours}, rpm ${rpmAnswers[i]}`];
    });
    expect(disagreements, `seed ${seed}`).toEqual([]);
    expect(new Set(rpmAnswers).size).toBe(2);
  });
});

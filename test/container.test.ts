// The Containerfile read as a builder would read it (there is no container engine here): its
// stages, what each copies from where, what the image runs as and with, and its health probe.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { startTestApp, type TestApp } from "./support/app.js";
import { repoRoot } from "./support/cliProcess.js";

const execFileAsync = promisify(execFile);

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  index: number;
  name?: string;
  image: string;
  instructions: Instruction[];
}

/** Instructions with their continuation lines joined; comment lines dropped (also inside a continuation, as builders do). */
function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split("\n").forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith("#") || (trimmed === "" && !pending)) return;
    const continues = trimmed.endsWith("\\");
    const part = continues ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending ? { text: `${pending.text} ${part}`, line: pending.line } : { text: part, line: i + 1 };
    if (continues) return;
    const m = /^(\S+)\s*(.*)$/.exec(pending.text);
    if (m) out.push({ keyword: (m[1] as string).toUpperCase(), args: (m[2] as string).trim(), line: pending.line });
    pending = undefined;
  });
  return out;
}

function parseStages(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith("--"));
      const as = words.findIndex((w) => w.toUpperCase() === "AS");
      stages.push({ index: stages.length, image: words[0] as string, ...(as > 0 ? { name: words[as + 1] as string } : {}), instructions: [] });
    } else {
      const current = stages.at(-1);
      if (!current) throw new Error(`line ${ins.line}: ${ins.keyword} before any FROM`);
      current.instructions.push(ins);
    }
  }
  return stages;
}

/** Splits flags (--from=build) from the words of a COPY/ADD; understands the JSON array form. */
function copyParts(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let m = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest); m; m = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest)) {
    flags[m[1] as string] = m[2] ?? "";
    rest = rest.slice(m[0].length);
  }
  const words = rest.startsWith("[") ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  return { flags, sources: words.slice(0, -1), dest: words.at(-1) as string };
}

/** KEY=VALUE pairs of an ENV instruction (quotes removed). */
function envPairs(args: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    const value = m[2] as string;
    pairs.push([m[1] as string, value.startsWith('"') ? (JSON.parse(value) as string) : value]);
  }
  return pairs;
}

function workdirAt(stage: Stage, uptoLine: number): string {
  let dir = "/";
  for (const ins of stage.instructions) {
    if (ins.line > uptoLine) break;
    if (ins.keyword === "WORKDIR") dir = path.posix.resolve(dir, ins.args);
  }
  return dir;
}

/** The absolute paths a COPY puts into its stage's file system. */
function copyTargets(stage: Stage, ins: Instruction): { source: string; target: string }[] {
  const { sources, dest } = copyParts(ins.args);
  const destAbs = path.posix.resolve(workdirAt(stage, ins.line), dest);
  const intoDir = sources.length > 1 || dest.endsWith("/") || dest === ".";
  return sources.map((source) => ({ source, target: intoDir ? path.posix.join(destAbs, path.posix.basename(source)) : destAbs }));
}

const isWithin = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith("/") ? dir : `${dir}/`);

function isGitIgnored(relPath: string): boolean {
  try {
    execFileSync("git", ["check-ignore", "-q", relPath], { cwd: repoRoot, stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const text = readFileSync(path.join(repoRoot, "Containerfile"), "utf8");
const stages = parseStages(parseInstructions(text));
const finalStage = stages.at(-1) as Stage;
const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  engines: { node: string };
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as {
  packages: Record<string, { dev?: boolean; devOptional?: boolean; hasInstallScript?: boolean }>;
};
const buildOutDir = (JSON.parse(readFileSync(path.join(repoRoot, "tsconfig.build.json"), "utf8")) as { compilerOptions: { outDir: string } }).compilerOptions.outDir;

const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const runs = (stage: Stage) => all(stage, "RUN").map((i) => i.args);
const stageOf = (ref: string, before: number) => stages.find((s) => s.index < before && (s.name === ref || String(s.index) === ref));
const finalEnv = new Map(all(finalStage, "ENV").flatMap((i) => envPairs(i.args)));

describe("Containerfile", () => {
  it("builds in stages on UBI or Fedora images pinned to a tag, UBI's of an LTS Node.js that package.json allows", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const minimumMajor = Number(/^>=\s*(\d+)/.exec(pkg.engines.node)?.[1]);
    expect(minimumMajor).toBeGreaterThanOrEqual(22);
    for (const stage of stages) {
      if (stageOf(stage.image, stage.index)) continue;
      expect(stage.image).toMatch(/^(registry\.access\.redhat\.com\/ubi9\/nodejs-[0-9]+(-minimal)?|registry\.fedoraproject\.org\/fedora(-minimal)?)(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$/);
      const major = /\/nodejs-([0-9]+)/.exec(stage.image)?.[1];
      if (major !== undefined) {
        expect(Number(major), `${stage.image}: older than engines.node ${pkg.engines.node}`).toBeGreaterThanOrEqual(minimumMajor);
        // Even majors are the long-term-support lines; odd ones end six months after release.
        expect(Number(major) % 2, `${stage.image}: not an LTS line`).toBe(0);
      }
      const tag = /:([A-Za-z0-9._-]+)(@|$)/.exec(stage.image)?.[1];
      const digest = stage.image.includes("@sha256:");
      expect(tag !== undefined || digest, `${stage.image} names no tag`).toBe(true);
      expect(tag, `${stage.image}: latest moves`).not.toBe("latest");
    }
  });

  it("installs every dependency, generates the Prisma clients and compiles in a build stage", () => {
    const builders = stages.slice(0, -1).filter((s) => {
      const text = runs(s).join("\n");
      return /\bnpm ci\b(?![^\n]*--omit=dev)/.test(text) && /\bnpm run generate\b/.test(text) && /\bnpm run build\b/.test(text);
    });
    expect(builders.map((s) => s.name ?? s.index)).not.toEqual([]);
  });

  it("installs production dependencies only in the final stage, without the postinstall that needs a devDependency", () => {
    const install = runs(finalStage).find((r) => /\bnpm ci\b/.test(r));
    expect(install).toBeDefined();
    expect(install).toMatch(/--omit=dev\b/);
    // The postinstall runs the prisma CLI, a devDependency: it cannot run where only production
    // dependencies are installed, so the final stage must skip scripts.
    const postinstall = pkg.scripts.postinstall ?? "";
    const scriptFile = /node\s+(\S+\.m?js)/.exec(postinstall)?.[1];
    const needsPrismaCli = scriptFile !== undefined && /node_modules\/prisma\b/.test(readFileSync(path.join(repoRoot, scriptFile), "utf8"));
    if (needsPrismaCli && pkg.devDependencies.prisma) expect(install).toMatch(/--ignore-scripts\b/);
    // npm installs a dev package that is also an optional peer of a production one unless
    // optional dependencies are omitted too (the prisma CLI is @prisma/client's).
    const devOptional = Object.entries(lock.packages).filter(([, p]) => p.devOptional).map(([k]) => k);
    if (devOptional.length > 0) expect(install, `would install ${devOptional.join(", ")}`).toMatch(/--omit=optional\b/);
  });

  it("takes the native addons of production dependencies from the build stage", () => {
    const install = runs(finalStage).find((r) => /\bnpm ci\b/.test(r)) ?? "";
    if (!/--ignore-scripts\b/.test(install)) return;
    // A package with an install script and a binding.gyp builds a .node file at install time.
    const native = Object.entries(lock.packages)
      .filter(([k, p]) => k.startsWith("node_modules/") && !p.dev && !p.devOptional && p.hasInstallScript)
      .map(([k]) => k)
      .filter((k) => existsSync(path.join(repoRoot, k, "binding.gyp")));
    expect(native).toContain("node_modules/better-sqlite3");
    const fromStages = all(finalStage, "COPY").filter((i) => copyParts(i.args).flags.from !== undefined);
    for (const dir of native) {
      const copied = fromStages.flatMap((i) => copyTargets(finalStage, i)).some((t) => isWithin(t.target, path.posix.join(workdirAt(finalStage, Infinity), dir, "build")));
      expect(copied, `${dir}'s addon is not copied from the build stage`).toBe(true);
    }
  });

  it("checks better-sqlite3's addon under the image's own Node.js right after building it", () => {
    const builder = stages.find((s) => runs(s).some((r) => /\bnpm rebuild better-sqlite3\b/.test(r)));
    expect(builder, "no stage builds better-sqlite3").toBeDefined();
    const instructions = (builder as Stage).instructions;
    const rebuild = instructions.findIndex((i) => i.keyword === "RUN" && /\bnpm rebuild better-sqlite3\b/.test(i.args));
    const check = instructions.findIndex((i) => i.keyword === "RUN" && /^node scripts\/check-sqlite-addon\.mjs\b/.test(i.args));
    expect(check, "the addon check does not run after the rebuild").toBeGreaterThan(rebuild);
    const copied = instructions
      .slice(0, check)
      .filter((i) => i.keyword === "COPY")
      .flatMap((i) => copyTargets(builder as Stage, i))
      .some((t) => isWithin(path.posix.join(workdirAt(builder as Stage, Infinity), "scripts/check-sqlite-addon.mjs"), t.target));
    expect(copied, "scripts/check-sqlite-addon.mjs is not in the stage before it runs").toBe(true);
  });

  it("copies only files that exist in the repository or in the stage they come from", () => {
    for (const stage of stages) {
      for (const ins of stage.instructions.filter((i) => i.keyword === "COPY" || i.keyword === "ADD")) {
        const { flags, sources } = copyParts(ins.args);
        if (flags.from === undefined) {
          for (const source of sources) {
            const where = `line ${ins.line}: ${source}`;
            expect(existsSync(path.join(repoRoot, source)), `${where} does not exist`).toBe(true);
            // A fresh clone (CI, a build service) has no ignored files: dist/, node_modules/, data/.
            expect(isGitIgnored(source), `${where} is ignored by git`).toBe(false);
          }
          continue;
        }
        const from = stageOf(flags.from, stage.index);
        expect(from, `line ${ins.line}: --from=${flags.from} is not an earlier stage`).toBeDefined();
        if (!from) continue;
        // What that stage has below its WORKDIR: what it copied in, and what its RUNs make.
        const fromDir = workdirAt(from, Infinity);
        const made = [
          ...from.instructions.filter((i) => i.keyword === "COPY").flatMap((i) => copyTargets(from, i).map((t) => t.target)),
          ...(runs(from).some((r) => /\bnpm (ci|install)\b/.test(r)) ? [path.posix.join(fromDir, "node_modules")] : []),
          ...(runs(from).some((r) => /\bnpm run build\b/.test(r)) ? [path.posix.join(fromDir, buildOutDir)] : []),
        ];
        for (const source of sources) {
          const abs = path.posix.resolve(fromDir, source);
          expect(made.some((m) => isWithin(abs, m)), `line ${ins.line}: ${source} is not made in stage ${flags.from}`).toBe(true);
        }
      }
    }
  });

  it("puts into the image every file the code reads beside dist/ at run time", () => {
    const workdir = workdirAt(finalStage, Infinity);
    const inImage = all(finalStage, "COPY").flatMap((i) => copyTargets(finalStage, i).map((t) => t.target));
    const covered = (rel: string) => inImage.some((t) => isWithin(path.posix.join(workdir, rel), t));
    // Files found from a module's own URL (new URL("../../../src/web/", import.meta.url)): where
    // they point once the module runs from dist/.
    const needed = new Set<string>(["bin/relengd.js", "package.json", "policies", "prisma/migrations" /* src/store/migrator.ts */]);
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const p = path.join(dir, name);
        if (statSync(p).isDirectory()) return name === "generated" ? [] : walk(p);
        return p.endsWith(".ts") ? [p] : [];
      });
    for (const file of walk(path.join(repoRoot, "src"))) {
      const rel = path.relative(path.join(repoRoot, "src"), file);
      for (const m of readFileSync(file, "utf8").matchAll(/new URL\(\s*"((?:\.\.\/)+[^"]*)"\s*,\s*import\.meta\.url\s*\)/g)) {
        const fromDist = path.posix.normalize(path.posix.join(buildOutDir, path.posix.dirname(rel), m[1] as string));
        if (!isWithin(fromDist, buildOutDir)) needed.add(fromDist.replace(/\/$/, ""));
      }
    }
    expect([...needed].filter((rel) => !covered(rel))).toEqual([]);
    expect(covered(buildOutDir)).toBe(true);
  });

  it("runs as a numeric non-root user, after the last RUN", () => {
    const users = all(finalStage, "USER");
    const last = users.at(-1);
    expect(last?.args).toMatch(/^[0-9]+(:[0-9]+)?$/);
    expect(Number(last?.args.split(":")[0])).toBeGreaterThan(0);
    const lastRun = all(finalStage, "RUN").at(-1);
    expect((last?.line ?? 0) > (lastRun?.line ?? 0)).toBe(true);
  });

  it("keeps its data in a directory group 0 owns and may write (OpenShift's arbitrary UID)", () => {
    const dataDir = finalEnv.get("RELENGD_DATA_DIR");
    expect(dataDir).toMatch(/^\//);
    const escaped = (dataDir as string).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    const script = runs(finalStage).join("\n");
    expect(script).toMatch(new RegExp(`(chgrp (-R )?0|chown (-R )?[0-9a-z]*:0) ${escaped}(\\s|$)`));
    expect(script).toMatch(new RegExp(`chmod (-R )?g=u ${escaped}(\\s|$)`));
    // The database and the writer's workspaces live there.
    expect(finalEnv.get("RELENGD_DATABASE_URL")).toBe(`file:${dataDir}/relengd.db`);
  });

  it("is configured by environment variables that src/config.ts reads, with values it accepts", () => {
    const configSource = readFileSync(path.join(repoRoot, "src/config.ts"), "utf8");
    const known = new Set([...configSource.matchAll(/^\s*(RELENGD_[A-Z0-9_]+):/gm)].map((m) => m[1]));
    expect(known.size).toBeGreaterThan(5);
    const names = [...finalEnv.keys()];
    expect(names.filter((k) => k.startsWith("RELENGD_") && !known.has(k))).toEqual([]);
    // Besides relengd's own: Node's mode and the HOME that git and ssh use.
    expect(names.filter((k) => !k.startsWith("RELENGD_") && !["NODE_ENV", "HOME"].includes(k))).toEqual([]);
    const config = loadConfig(Object.fromEntries(finalEnv));
    expect(config.host).toBe("0.0.0.0");
    expect(all(finalStage, "EXPOSE").map((i) => i.args)).toEqual([String(config.port)]);
  });

  it("starts the server through bin/relengd.js", () => {
    expect(JSON.parse(all(finalStage, "ENTRYPOINT").at(-1)?.args ?? "null")).toEqual(["node", "--max-semi-space-size=8", "bin/relengd.js"]);
    expect(JSON.parse(all(finalStage, "CMD").at(-1)?.args ?? "null")).toEqual(["serve"]);
    expect(readFileSync(path.join(repoRoot, "src/cli/server.ts"), "utf8")).toContain('.command("serve")');
  });

  describe("HEALTHCHECK", () => {
    let testApp: TestApp;
    let port: number;
    const healthcheck = all(finalStage, "HEALTHCHECK").at(-1);
    const command = JSON.parse(/CMD\s+(\[.*\])\s*$/.exec(healthcheck?.args ?? "")?.[1] ?? "null") as string[] | null;

    beforeAll(async () => {
      testApp = await startTestApp("sqlite");
      const address = await testApp.app.listen({ host: "127.0.0.1", port: 0 });
      port = Number(new URL(address).port);
    });
    afterAll(async () => {
      await testApp?.close();
    });

    it("probes a liveness route the server has, with nothing but node", async () => {
      expect(command?.[0]).toBe("node");
      const probePath = /['"](\/[A-Za-z0-9/_-]+)['"]/.exec(command?.join(" ") ?? "")?.[1];
      expect(probePath).toBe("/healthz");
      const res = await testApp.app.inject({ method: "GET", url: probePath as string });
      expect(res.statusCode).toBe(200);
    });

    it("exits 0 while the server answers and 1 once it is gone", async () => {
      const [, ...args] = command as string[];
      const env = { PATH: process.env.PATH ?? "", RELENGD_PORT: String(port) };
      await expect(execFileAsync(process.execPath, args, { env, timeout: 10_000 })).resolves.toBeDefined();
      await testApp.app.close();
      await expect(execFileAsync(process.execPath, args, { env, timeout: 10_000 })).rejects.toMatchObject({ code: 1 });
    });
  });
});

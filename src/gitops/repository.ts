// The local GitOps repository: a bare repository created on first start, with a first commit
// (its README) so that every clone has a branch to start a request from.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { runGitProcess } from "./gitProcess.js";

export interface BareRepositoryOptions {
  branch?: string;
  /** The first commit's README (and who makes it); absent: the repository starts empty. */
  readme?: { text: string; author: { name: string; email: string }; message: string };
}

async function git(dir: string, args: string[], input?: string, env: Record<string, string> = {}): Promise<string> {
  const base: Record<string, string> = { LC_ALL: "C", GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0" };
  for (const k of ["PATH", "HOME"]) {
    const v = process.env[k];
    if (v !== undefined) base[k] = v;
  }
  const r = await runGitProcess({ args, cwd: dir, env: { ...base, ...env }, ...(input === undefined ? {} : { input: Buffer.from(input, "utf8") }) });
  if (r.code !== 0) throw new Error(`git ${args[0] ?? ""} in ${dir}: ${r.stderr.trim() || r.code}`);
  return r.stdout.toString("utf8").trim();
}

/**
 * Creates a bare repository at `dir` if there is none, and gives its branch a first commit with
 * the README when asked and the branch has no commit yet (a repository an older relengd created
 * empty gets it too). Returns true if the repository was created.
 */
export async function ensureBareRepository(dir: string, options: BareRepositoryOptions = {}): Promise<boolean> {
  const branch = options.branch ?? "main";
  const created = !existsSync(path.join(dir, "HEAD"));
  if (created) {
    mkdirSync(dir, { recursive: true });
    await git(dir, ["init", "--bare", "--quiet", `--initial-branch=${branch}`]);
  }
  const readme = options.readme;
  if (readme) {
    const hasCommit = (await runGitProcess({ args: ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`], cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" } })).code === 0;
    if (!hasCommit) {
      const blob = await git(dir, ["hash-object", "-w", "--stdin"], readme.text);
      const tree = await git(dir, ["mktree"], `100644 blob ${blob}\tREADME.md\n`);
      const who = { GIT_AUTHOR_NAME: readme.author.name, GIT_AUTHOR_EMAIL: readme.author.email, GIT_COMMITTER_NAME: readme.author.name, GIT_COMMITTER_EMAIL: readme.author.email };
      const commit = await git(dir, ["commit-tree", tree, "-F", "-"], readme.message, who);
      // Only where the branch still does not exist: a writer that made it meanwhile wins.
      await git(dir, ["update-ref", `refs/heads/${branch}`, commit, ""]);
    }
  }
  return created;
}

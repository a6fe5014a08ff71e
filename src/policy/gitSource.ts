// Policies read from a path in a git repository, so that a policy change is itself a merge
// request: a local clone kept in the data dir, fast-forwarded to the branch on every (re)load.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { simpleGit } from "simple-git";

export interface GitPolicySourceConfig {
  url: string;
  branch: string;
  /** Folder inside the repository that holds environments.yaml and the policies. */
  path: string;
  /** Where the clone lives (under the data dir). */
  checkout: string;
}

export class GitPolicySource {
  constructor(private readonly config: GitPolicySourceConfig) {
    if (path.isAbsolute(config.path) || config.path.split(/[\\/]/).includes("..")) {
      throw new Error(`policies path in the repository must be relative and inside it: ${config.path}`);
    }
  }

  /** The folder to load policies from, once the checkout matches the remote branch. */
  get dir(): string {
    return path.join(this.config.checkout, this.config.path);
  }

  async sync(): Promise<void> {
    const { url, branch, checkout } = this.config;
    if (!existsSync(path.join(checkout, ".git"))) {
      mkdirSync(path.dirname(checkout), { recursive: true });
      await simpleGit().clone(url, checkout, ["--quiet", "--depth", "1", "--branch", branch, "--single-branch"]);
      return;
    }
    const git = simpleGit(checkout);
    await git.raw(["fetch", "--quiet", "--depth", "1", "origin", `+refs/heads/${branch}:refs/remotes/origin/${branch}`]);
    // The checkout is ours alone: it always becomes exactly what the branch says.
    await git.raw(["reset", "--quiet", "--hard", `refs/remotes/origin/${branch}`]);
  }
}

// Reads a GitOps remote the way a person would: a fresh clone, its files and its log.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseReleaseCommitMessage, type ReleaseCommitInfo } from "../../src/domain/commitMessages/release.js";

export interface RemoteCommit {
  sha: string;
  author: string;
  message: string;
  release?: ReleaseCommitInfo;
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** A fresh clone of `remote` (branch main); call dispose when done. */
export function cloneRemote(remote: string, branch = "main") {
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-clone-"));
  git(dir, "clone", "--quiet", "--branch", branch, remote, "work");
  const work = path.join(dir, "work");
  return {
    dir: work,
    read(file: string): string | null {
      const p = path.join(work, file);
      return existsSync(p) ? readFileSync(p, "utf8") : null;
    },
    log(): RemoteCommit[] {
      const out = git(work, "log", "--format=%H%x1f%an%x1f%B%x1e");
      return out
        .split("\x1e")
        .map((r) => r.replace(/^\n/, ""))
        .filter(Boolean)
        .map((r) => {
          const [sha = "", author = "", message = ""] = r.split("\x1f");
          const release = parseReleaseCommitMessage(message);
          return release ? { sha, author, message, release } : { sha, author, message };
        });
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function remoteHead(remote: string, branch = "main"): string {
  return git(remote, "rev-parse", `refs/heads/${branch}`).trim();
}

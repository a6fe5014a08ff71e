// The GitOps repository handle. For now: make sure the default local bare repo exists.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { simpleGit } from "simple-git";

/** Creates a bare repository at `dir` with branch `main` if there is none; returns true if created. */
export async function ensureBareRepository(dir: string, branch = "main"): Promise<boolean> {
  if (existsSync(path.join(dir, "HEAD"))) return false;
  mkdirSync(dir, { recursive: true });
  await simpleGit(dir).raw(["init", "--bare", `--initial-branch=${branch}`]);
  return true;
}

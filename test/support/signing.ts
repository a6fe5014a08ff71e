// Real SSH signing keys for tests of who a request's author is: made with ssh-keygen, used by git.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { git } from "./remote.js";

/** A new ed25519 key pair in `dir` (no passphrase); returns the private key's file (`.pub` beside it). */
export function sshKey(dir: string, name: string, comment = name): string {
  const file = path.join(dir, `${name}_ed25519`);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  return file;
}

/** Makes every commit of the work tree `dir` SSH-signed with `key`. */
export function signCommitsWith(dir: string, key: string): void {
  git(dir, "config", "gpg.format", "ssh");
  git(dir, "config", "user.signingkey", key);
  git(dir, "config", "commit.gpgsign", "true");
}

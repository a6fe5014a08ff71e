// A real post-receive hook in a bare remote that records every push git accepts, and whether
// each ref update was a fast-forward (git's own merge-base, at push time).
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface RecordedPush {
  /** One id per push (the hook's process id): several refs of one push share it. */
  push: string;
  oldSha: string;
  newSha: string;
  ref: string;
  /** false when the old head is no longer an ancestor of the new one (a forced push). */
  fastForward: boolean;
}

const ZERO = /^0{40}$/;

/** Installs hooks/post-receive in `remote` (a bare repository); returns a reader of the log. */
export function recordPushes(remote: string): { pushes(): RecordedPush[] } {
  const log = path.join(remote, "relengd-test-pushes.log");
  const hook = path.join(remote, "hooks", "post-receive");
  writeFileSync(
    hook,
    [
      "#!/bin/sh",
      "# Written by the relengd tests: one line per ref update.",
      "while read old new ref; do",
      "  ff=ff",
      `  if ! echo "$old" | grep -qE '^0{40}$' && ! git merge-base --is-ancestor "$old" "$new"; then ff=forced; fi`,
      `  echo "$$ $old $new $ref $ff" >> '${log}'`,
      "done",
      "",
    ].join("\n"),
  );
  chmodSync(hook, 0o755);
  return {
    pushes() {
      if (!existsSync(log)) return [];
      return readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [push = "", oldSha = "", newSha = "", ref = "", ff = ""] = line.split(" ");
          return { push, oldSha, newSha, ref, fastForward: ff === "ff" || ZERO.test(oldSha) };
        });
    },
  };
}

// Someone else pushing to the GitOps branch: a separate process (a shell loop with real git)
// that commits files outside relengd's folders and pushes them as fast as it can, rebasing on
// rejection the way a person would. It logs every commit it pushed and every head it saw.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const SCRIPT = `
set -u
remote="$1"; work="$2"; stop="$3"; log="$4"; branch="$5"; pause="$6"
git clone -q --branch "$branch" "$remote" "$work" || exit 2
cd "$work" || exit 2
git config user.name "Foreign Writer"
git config user.email "foreign@example.org"
git config gc.auto 0
n=0
while [ ! -e "$stop" ]; do
  n=$((n+1))
  echo "change $n by someone else" > "README-$n.md"
  git add "README-$n.md" && git commit -q -m "docs: README-$n" || exit 3
  until git push -q origin "HEAD:refs/heads/$branch" 2>/dev/null; do
    git pull -q --rebase origin "$branch" || exit 4
    echo "seen $(git rev-parse "origin/$branch")" >> "$log"
  done
  echo "pushed $n $(git rev-parse HEAD)" >> "$log"
  [ "$pause" = 0 ] || sleep "$pause"
done
exit 0
`;

export interface ForeignPusher {
  /** Commits pushed so far: the README number and the sha that landed. */
  pushed(): { n: number; sha: string }[];
  /** Remote heads the pusher saw after fetching. */
  seen(): string[];
  /** Asks the loop to stop after its current push; resolves with its exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/**
 * Starts the loop against `remote` (which must already have `branch`): as fast as it can, or
 * with a pause of `pauseMs` after each push (a busy bot rather than a flood).
 */
export function startForeignPusher(remote: string, options: { branch?: string; pauseMs?: number } = {}): ForeignPusher {
  const branch = options.branch ?? "main";
  const pause = ((options.pauseMs ?? 0) / 1000).toFixed(3);
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-foreign-"));
  const script = path.join(dir, "push-loop.sh");
  const stopFile = path.join(dir, "stop");
  const log = path.join(dir, "log");
  writeFileSync(script, SCRIPT);
  writeFileSync(log, "");
  let stderr = "";
  const child: ChildProcess = spawn("bash", [script, remote, path.join(dir, "work"), stopFile, log, branch, options.pauseMs ? pause : "0"], { stdio: ["ignore", "ignore", "pipe"] });
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // Kept once stopped: the temp dir goes away with the process.
  let final: string[] | undefined;
  const lines = () => final ?? (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : []);
  const cleanUp = () => {
    final = lines();
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    pushed: () =>
      lines()
        .filter((l) => l.startsWith("pushed "))
        .map((l) => {
          const [, n = "", sha = ""] = l.split(" ");
          return { n: Number(n), sha };
        }),
    seen: () => lines().filter((l) => l.startsWith("seen ")).map((l) => l.slice(5)),
    async stop(timeoutMs = 20_000) {
      writeFileSync(stopFile, "");
      const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), timeoutMs).unref());
      const outcome = await Promise.race([exited, timer]);
      if (outcome === "timeout") {
        child.kill("SIGKILL");
        await exited;
        cleanUp();
        throw new Error(`the foreign pusher did not stop within ${timeoutMs} ms\n${stderr}`);
      }
      cleanUp();
      if (outcome !== 0) throw new Error(`the foreign pusher exited with ${outcome}\n${stderr}`);
      return outcome;
    },
  };
}

// The workspace's reads of documents at a commit: the paths asked for, present or not, in one
// ls-tree walk and one cat-file, many times over without the git pipes ever failing the process.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { PushRejected, Workspace } from "../../src/gitops/workspace.js";

describe("Workspace.readFiles", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-ws-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("returns the text of the paths that exist, by path, and nothing for the others", async () => {
    const remote = path.join(dir, "remote.git");
    await ensureBareRepository(remote);
    const ws = new Workspace(path.join(dir, "ws.git"), remote, "main");
    await ws.open();
    const files = Array.from({ length: 50 }, (_, i) => ({ path: `koji/tags/f45/pkg-${i}.yaml`, content: `nvr: pkg-${i}-1.0-1.fc45\n` }));
    files.push({ path: "koji/tags/f45/odd name [x]*.yaml", content: "a name with glob characters\n" });
    const [sha] = await ws.commit(null, [{ files, message: "seed" }], { name: "t", email: "t@localhost" });
    const asked = ["koji/tags/f45/pkg-3.yaml", "koji/tags/f45/pkg-49.yaml", "koji/tags/f45/missing.yaml", "koji/tags/f45/odd name [x]*.yaml", "koji/tags/f45/pkg-3.yaml"];
    const got = await ws.readFiles(sha as string, asked);
    expect(Object.fromEntries(got)).toEqual({
      "koji/tags/f45/pkg-3.yaml": "nvr: pkg-3-1.0-1.fc45\n",
      "koji/tags/f45/pkg-49.yaml": "nvr: pkg-49-1.0-1.fc45\n",
      "koji/tags/f45/odd name [x]*.yaml": "a name with glob characters\n",
    });
    // A glob character is a literal: `*` does not match the other files.
    expect([...(await ws.readFiles(sha as string, ["koji/tags/f45/*"])).keys()]).toEqual([]);
    // ls-tree reads no input and may exit before its stdin is closed: that must never surface
    // as an unhandled EPIPE (it ended a server once).
    for (let i = 0; i < 150; i++) expect((await ws.readFiles(sha as string, ["koji/tags/f45/missing.yaml"])).size).toBe(0);
  }, 120_000);
});

// simple-git resolves a command that exits non-zero without a word on stderr as a success, and
// waits 50 ms after any command that wrote nothing: `merge-base --is-ancestor` answered true for
// every pair, and the update-ref after every push cost 50 ms of each release's latency.
describe("Workspace's silent git commands", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-ws-silent-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("isAncestor tells apart a commit in the history from one that is not, without waiting for output that never comes", async () => {
    const remote = path.join(dir, "remote.git");
    await ensureBareRepository(remote);
    const ws = new Workspace(path.join(dir, "ws.git"), remote, "main");
    await ws.open();
    const author = { name: "t", email: "t@localhost" };
    const [a] = await ws.commit(null, [{ files: [{ path: "a.yaml", content: "a\n" }], message: "a" }], author);
    const [b] = await ws.commit(a as string, [{ files: [{ path: "b.yaml", content: "b\n" }], message: "b" }], author);
    const [other] = await ws.commit(null, [{ files: [{ path: "c.yaml", content: "c\n" }], message: "unrelated root" }], author);
    expect(await ws.isAncestor(a as string, b as string)).toBe(true);
    expect(await ws.isAncestor(b as string, a as string)).toBe(false);
    expect(await ws.isAncestor(other as string, b as string)).toBe(false);
    // Each of these is one short git process (a few ms); the fastest of five stays well under
    // the 50 ms simple-git added to every command that printed nothing.
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await ws.isAncestor(a as string, b as string);
      times.push(performance.now() - t);
    }
    expect(Math.min(...times)).toBeLessThan(40);
  }, 60_000);

  it("a push records the remote's new head in the workspace, and a rejected push is told apart", async () => {
    const remote = path.join(dir, "remote2.git");
    await ensureBareRepository(remote);
    const ws = new Workspace(path.join(dir, "ws2.git"), remote, "main");
    await ws.open();
    expect(await ws.fetch()).toBe(false);
    const author = { name: "t", email: "t@localhost" };
    const [a] = await ws.commit(null, [{ files: [{ path: "a.yaml", content: "a\n" }], message: "a" }], author);
    await ws.push(a as string);
    expect(await ws.fetch()).toBe(true);
    expect(await ws.head()).toBe(a);
    const [unrelated] = await ws.commit(null, [{ files: [{ path: "x.yaml", content: "x\n" }], message: "x" }], author);
    await expect(ws.push(unrelated as string)).rejects.toBeInstanceOf(PushRejected);
  }, 60_000);
});

describe("Workspace.push", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "relengd-ws-push-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is one git process in the workspace, and leaves the remote-tracking ref at what it pushed", async () => {
    const remote = path.join(dir, "remote.git");
    await ensureBareRepository(remote);
    const wsDir = path.join(dir, "ws.git");
    const ws = new Workspace(wsDir, remote, "main");
    await ws.open();
    const author = { name: "t", email: "t@localhost" };
    const [a] = await ws.commit(null, [{ files: [{ path: "a.yaml", content: "a\n" }], message: "a" }], author);
    const [b] = await ws.commit(a as string, [{ files: [{ path: "b.yaml", content: "b\n" }], message: "b" }], author);
    await ws.push(a as string);
    // The workspace's git passes GIT_TRACE2_EVENT on (an operator's way to time it): every git
    // process of the push is in the trace; the remote's receive-pack is the push's child.
    const trace = path.join(dir, "trace.json");
    const before = process.env.GIT_TRACE2_EVENT;
    process.env.GIT_TRACE2_EVENT = trace;
    try {
      await ws.push(b as string);
    } finally {
      if (before === undefined) delete process.env.GIT_TRACE2_EVENT;
      else process.env.GIT_TRACE2_EVENT = before;
    }
    const commands = readFileSync(trace, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; hierarchy?: string })
      .filter((e) => e.event === "cmd_name" && !e.hierarchy?.includes("/"))
      .map((e) => e.hierarchy);
    expect(commands).toEqual(["push"]);
    const tracking = execFileSync("git", ["-C", wsDir, "rev-parse", "refs/remotes/origin/main"], { encoding: "utf8" }).trim();
    expect(tracking).toBe(b);
    expect(await ws.head()).toBe(b);
    expect(await ws.fetch()).toBe(true);
    expect(await ws.head()).toBe(b);
  }, 60_000);
});

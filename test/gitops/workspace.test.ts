// The workspace's reads of documents at a commit: the paths asked for, present or not, in one
// ls-tree walk and one cat-file, many times over without the git pipes ever failing the process.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureBareRepository } from "../../src/gitops/repository.js";
import { Workspace } from "../../src/gitops/workspace.js";

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

// The cause a failed write attempt is reported with (release error, logs, metrics, /readyz), from
// the real errors each part raises: the remote, the local workspace, the store.
import { stamp } from "../../src/store/store.js";
import { sql } from "kysely";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Workspace } from "../../src/gitops/workspace.js";
import { failureCause } from "../../src/gitops/writer.js";
import { freshDatabase, testProviders } from "../support/database.js";

const dir = mkdtempSync(path.join(tmpdir(), "relengd-cause-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const raised = (p: Promise<unknown>) => p.then(() => expect.unreachable("it did not fail"), (err: unknown) => err);

describe("the cause of a failed write", () => {
  it("is remote for a remote that is not there, workspace for a workspace that cannot be made, other for anything else", async () => {
    const ws = new Workspace(path.join(dir, "ws.git"), path.join(dir, "no-such-remote.git"), "main");
    await ws.open();
    expect(failureCause(await raised(ws.fetch()))).toBe("remote");
    // A file where the workspace directory should be.
    writeFileSync(path.join(dir, "blocked.git"), "");
    expect(failureCause(await raised(new Workspace(path.join(dir, "blocked.git", "ws.git"), path.join(dir, "r.git"), "main").open()))).toBe("workspace");
    expect(failureCause(new TypeError("x is undefined"))).toBe("other");
  });

  it.each(testProviders)("is store for the errors of the store on %s", async (provider) => {
    const database = await freshDatabase(provider);
    try {
      const store = database.db;
      expect(failureCause(await raised(store.read((tx) => sql`SELECT * FROM "no_such_table"`.execute(tx))))).toBe("store");
      // A unique key violated inside a write transaction.
      const hold = { id: "h", environment: "f44", package: "p", reason: "r", createdBy: "me", createdAt: stamp(new Date()) };
      expect(failureCause(await raised(store.transaction((tx) => tx.insertInto("Hold").values([hold, { ...hold, id: "h2" }]).execute())))).toBe("store");
      // A list bound past one statement's limit.
      const ids = Array.from({ length: 1_000 }, (_, i) => `id-${i}`);
      expect(failureCause(await raised(store.read((tx) => tx.selectFrom("Release").select("id").where("id", "in", ids).execute())))).toBe("store");
    } finally {
      await database.dispose();
    }
  });
});

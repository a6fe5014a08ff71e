import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig, resolveTokenSecret } from "../../src/config.js";
import { openStore } from "../../src/store/store.js";
import { migrate } from "../../src/store/migrator.js";
import { TokenRepository } from "../../src/store/tokenRepository.js";

const mode = (file: string) => statSync(file).mode & 0o777;

// Only the owner may read them: the data dir holds the token secret and every token's record.
describe("the data dir and the SQLite database are private to their owner", () => {
  const dirs: string[] = [];
  const tmp = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "relengd-private-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("creates the database's folder 0700 and the database, its -wal and -shm 0600", async () => {
    const dataDir = path.join(tmp(), "data");
    const file = path.join(dataDir, "relengd.db");
    await migrate(`file:${file}`);
    const db = await openStore(`file:${file}`);
    try {
      // A write, so that the log and its index exist.
      await new TokenRepository(db).revoke("jti-private-files");
      expect(mode(dataDir).toString(8)).toBe("700");
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(mode(f).toString(8), path.basename(f)).toBe("600");
    } finally {
      await db.close();
    }
  });

  it("creates the data dir 0700 and the token secret 0600 when it generates one", () => {
    const dataDir = path.join(tmp(), "nested", "data");
    const config = loadConfig({ RELENGD_DATA_DIR: dataDir });
    resolveTokenSecret(config, () => undefined);
    expect(mode(dataDir).toString(8)).toBe("700");
    expect(mode(path.join(dataDir, "token-secret")).toString(8)).toBe("600");
  });
});

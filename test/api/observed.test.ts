// GET /api/v1/observed/branches and /sidetags: what POST /api/v1/events (the real ingest) observed.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.js";
import { testProviders } from "../support/database.js";
import { fixtureJson } from "../support/fedoraMessages.js";

describe.each(testProviders)("observed branches and side tags on %s", (provider) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(provider);
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = async (payload: Record<string, unknown>) => {
    const res = await t.app.inject({ method: "POST", url: "/api/v1/events", headers: await t.auth("admin"), payload });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.json<{ outcome: string; reason: string }>();
  };

  it("lists the branches and side tags the bus showed, filtered, newest first", async () => {
    for (const [repo, branch] of [["nethack", "f44"], ["nethack", "epel10"], ["python-requests", "f44"]] as const) {
      const r = await post({
        id: randomUUID(),
        topic: "org.fedoraproject.prod.pagure.git.branch.creation",
        headers: {},
        body: { agent: "releng-bot", branch: `refs/heads/${branch}`, rev: "3f1c3a0b1d0e2f4a5b6c7d8e9f00112233445566", repo: { namespace: "rpms", name: repo, fullname: `rpms/${repo}`, parent: null } },
      });
      expect(r.outcome).toBe("accepted");
    }
    const side = fixtureJson("buildsys.package.list.change/000.json");
    expect((await post({ ...side, id: randomUUID() })).outcome).toBe("accepted");

    const reader = await t.auth("reader");
    const all = await t.app.inject({ url: "/api/v1/observed/branches?namespace=rpms&repo=nethack", headers: reader });
    expect(all.statusCode, all.body).toBe(200);
    expect(all.json<{ items: { branch: string }[] }>().items.map((b) => b.branch)).toEqual(["epel10", "f44"]);
    const one = await t.app.inject({ url: "/api/v1/observed/branches?limit=1", headers: reader });
    expect(one.json<{ items: unknown[] }>().items).toHaveLength(1);
    const tags = await t.app.inject({ url: "/api/v1/observed/sidetags?owner=releng&base=f31-build", headers: reader });
    expect(tags.json()).toMatchObject({ items: [{ name: "f31-build-side-20267", baseTag: "f31-build", tagId: 20267, owner: "releng", packages: ["rust-dua-cli"], messages: 1 }] });
  });

  it("refuses bad filters with a problem naming the field", async () => {
    const reader = await t.auth("reader");
    for (const [url, field] of [
      ["/api/v1/observed/branches?repo=../../etc", "repo"],
      ["/api/v1/observed/branches?limit=0", "limit"],
      ["/api/v1/observed/sidetags?owner=%F0%9F", "owner"],
      ["/api/v1/observed/sidetags?other=1", ""],
    ] as const) {
      const res = await t.app.inject({ url, headers: reader });
      expect(res.statusCode, url).toBe(400);
      expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
      if (field) expect(res.body).toContain(field);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KojiTagChange } from "../../src/domain/busMapping.js";
import { ConcurrentTagChange, KojiTagRepository } from "../../src/store/kojiTagRepository.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

let counter = 0;
const uniq = (label: string) => `${label}-${++counter}`;

function change(tag: string, pkg: string, nvr: string, action: "tag" | "untag" = "tag", buildId?: number): KojiTagChange {
  return { action, tag, package: pkg, nvr, ...(buildId ? { buildId } : {}) } as KojiTagChange;
}

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));

describe.each(testProviders)("KojiTagRepository on %s", (provider) => {
  let database: TestDatabase;
  let tags: KojiTagRepository;

  beforeAll(async () => {
    database = await freshDatabase(provider);
    tags = new KojiTagRepository(database.db);
  });
  afterAll(async () => database?.dispose());

  const observe = (c: KojiTagChange, eventAt: Date, messageId = uniq("msg")) => database.db.transaction((tx) => tags.observeIn(tx, c, eventAt, messageId, new Date()));

  it("applies a first tag, a later untag, and refuses an older change as stale", async () => {
    const tag = uniq("f45");
    expect(await observe(change(tag, "bash", "bash-5-1.fc45", "tag", 42), at(1), "m1")).toEqual({ status: "applied", wasTagged: null });
    expect(await tags.find(tag, "bash-5-1.fc45")).toEqual({ tagged: true, eventAt: at(1), messageId: "m1", buildId: 42 });
    expect(await observe(change(tag, "bash", "bash-5-1.fc45", "untag"), at(3), "m3")).toEqual({ status: "applied", wasTagged: true });
    // The build id seen first stays when a later message does not carry one.
    expect(await tags.find(tag, "bash-5-1.fc45")).toEqual({ tagged: false, eventAt: at(3), messageId: "m3", buildId: 42 });
    expect(await observe(change(tag, "bash", "bash-5-1.fc45", "tag"), at(2), "m2")).toEqual({ status: "stale", newer: { tagged: false, eventAt: at(3), messageId: "m3" } });
    expect(await tags.find(tag, "bash-5-1.fc45")).toMatchObject({ tagged: false, messageId: "m3" });
    expect(await tags.find(tag, "absent-1-1")).toBeNull();
  });

  it("keeps an untag of a build never seen tagged, so an older tag does not bring it back", async () => {
    const tag = uniq("f45");
    expect(await observe(change(tag, "zsh", "zsh-1-1.fc45", "untag"), at(5))).toEqual({ status: "applied", wasTagged: null });
    expect((await observe(change(tag, "zsh", "zsh-1-1.fc45", "tag"), at(4))).status).toBe("stale");
    expect(await tags.observed(tag)).toEqual([]);
  });

  it("says a first observation stored meanwhile by another transaction is a concurrent change, and writes nothing", async () => {
    const tag = uniq("f45");
    await observe(change(tag, "vim", "vim-9-1.fc45"), at(1), "first");
    await expect(
      database.db.transaction((tx) => {
        // Reads as a concurrent ingest did before the first observation committed: nothing there.
        const blind = new Proxy(tx, {
          get(target, prop) {
            if (prop === "selectFrom") return () => ({ selectAll: () => ({ where: () => ({ where: () => ({ executeTakeFirst: async () => undefined }) }) }) });
            const value: unknown = Reflect.get(target, prop, target);
            return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        });
        return tags.observeIn(blind, change(tag, "vim", "vim-9-1.fc45", "untag"), at(2), "second", new Date());
      }),
    ).rejects.toBeInstanceOf(ConcurrentTagChange);
    expect(await tags.find(tag, "vim-9-1.fc45")).toMatchObject({ tagged: true, messageId: "first" });
  });

  it("lists a tag's builds by package in tagging order, the last of each package latest, and filters by package", async () => {
    const tag = uniq("f45");
    await observe(change(tag, "bash", "bash-5-2.fc45", "tag", 2), at(2), "b2");
    await observe(change(tag, "bash", "bash-5-1.fc45", "tag", 1), at(1), "b1");
    await observe(change(tag, "acl", "acl-2-1.fc45"), at(3), "a1");
    await observe(change(tag, "acl", "acl-2-0.fc45"), at(1), "a0");
    await observe(change(tag, "acl", "acl-2-0.fc45", "untag"), at(4), "a0u");
    const listed = await tags.observed(tag);
    expect(listed).toEqual([
      { tag, package: "acl", nvr: "acl-2-1.fc45", buildId: null, taggedAt: at(3).toISOString(), messageId: "a1", latest: true },
      { tag, package: "bash", nvr: "bash-5-1.fc45", buildId: 1, taggedAt: at(1).toISOString(), messageId: "b1", latest: false },
      { tag, package: "bash", nvr: "bash-5-2.fc45", buildId: 2, taggedAt: at(2).toISOString(), messageId: "b2", latest: true },
    ]);
    expect((await tags.observed(tag, { package: "bash" })).map((b) => b.nvr)).toEqual(["bash-5-1.fc45", "bash-5-2.fc45"]);
    expect(await tags.observed(uniq("empty"))).toEqual([]);
  });

  it("sums up every tag: builds and packages tagged now, and the last change", async () => {
    const a = uniq("a-tag");
    const b = uniq("b-tag");
    await observe(change(a, "bash", "bash-1-1"), at(1));
    await observe(change(a, "bash", "bash-1-2"), at(7));
    await observe(change(a, "zsh", "zsh-1-1"), at(3));
    await observe(change(b, "vim", "vim-1-1"), at(2));
    await observe(change(b, "vim", "vim-1-1", "untag"), at(9));
    await observe(change(b, "acl", "acl-1-1"), at(4));
    const summary = (await tags.tags()).filter((t) => t.tag === a || t.tag === b);
    expect(summary).toEqual([
      { tag: a, builds: 3, packages: 2, lastEventAt: at(7) },
      { tag: b, builds: 1, packages: 1, lastEventAt: at(4) },
    ]);
  });
});

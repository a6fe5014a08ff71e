// The report's owners: the requests' facts first, else a pagure_owner_alias.json-shaped file,
// read bounded and checked like the facts files; a bad file keeps the owners last read.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownersSource } from "../../src/policy/ownerAliases.js";

describe("ownersSource", () => {
  let dir: string;
  let file: string;
  let errors: string[];
  let tick = 0;
  // Each write gets its own time, so the file is seen as changed however fast the test runs.
  const write = (content: string | Buffer) => {
    writeFileSync(file, content);
    const at = new Date(Date.UTC(2031, 0, 1, 0, 0, ++tick));
    utimesSync(file, at, at);
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-owners-"));
    file = path.join(dir, "pagure_owner_alias.json");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const source = (facts?: Map<string, Map<string, readonly string[]>>) => {
    errors = [];
    return ownersSource({ file, maxBytes: 4096, onError: (e) => errors.push(e.message), ...(facts ? { facts: () => facts } : {}) });
  };

  it("takes the facts when the requests have them", async () => {
    write(JSON.stringify({ rpms: { alpha: ["jdoe"] } }));
    const facts = new Map([["rpms", new Map([["alpha", ["asmith"]]])]]);
    expect((await source(facts)())?.get("rpms")?.get("alpha")).toEqual(["asmith"]);
  });

  it("reads the file, and again when it changes", async () => {
    const owners = source();
    write(JSON.stringify({ rpms: { alpha: ["jdoe"] } }));
    expect((await owners())?.get("rpms")?.get("alpha")).toEqual(["jdoe"]);
    write(JSON.stringify({ rpms: { alpha: ["kvaldez"] } }));
    expect((await owners())?.get("rpms")?.get("alpha")).toEqual(["kvaldez"]);
    expect(errors).toEqual([]);
  });

  it.each([
    ["a file over the limit", () => Buffer.from(JSON.stringify({ rpms: { alpha: ["x".repeat(5000)] } })), /larger than 4096 bytes/],
    ["bytes that are not UTF-8", () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /not UTF-8/],
    ["text that is not JSON", () => "{rpms:", /not JSON/],
    ["JSON of another shape", () => JSON.stringify({ rpms: { alpha: "jdoe" } }), /pagure_owner_alias\.json/],
  ])("refuses %s, saying why, and keeps the owners last read", async (_name, content, why) => {
    const owners = source();
    write(JSON.stringify({ rpms: { alpha: ["jdoe"] } }));
    expect((await owners())?.get("rpms")?.get("alpha")).toEqual(["jdoe"]);
    write(content());
    expect((await owners())?.get("rpms")?.get("alpha")).toEqual(["jdoe"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(why);
  });

  it("knows no owners without facts or file", async () => {
    expect(await ownersSource({})()).toBeUndefined();
  });
});

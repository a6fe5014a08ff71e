import { describe, expect, it } from "vitest";
import { compareEvr, compareNvr, evrOfNvr, matchesEvrRange, parseEvr, parseEvrRange, renderEvr, renderEvrRange, rpmvercmp, type Evr, type EvrRange } from "../../src/domain/evr.js";
import { parseNvr } from "../../src/domain/nvr.js";
import { evrCases, nvrCases, rpmvercmpCases } from "../support/rpmOrderCases.js";

function evr(text: string): Evr {
  const r = parseEvr(text);
  if (!r.ok) throw new Error(`${text} ${r.reason}`);
  return r.evr;
}

function range(text: string): EvrRange {
  const r = parseEvrRange(text);
  if (!r.ok) throw new Error(`${text} ${r.reason}`);
  return r.range;
}

describe("rpmvercmp", () => {
  it.each(rpmvercmpCases)("orders %j against %j as %i", (a, b, expected) => {
    expect(rpmvercmp(a, b)).toBe(expected);
    expect(rpmvercmp(b, a)).toBe(-expected || 0);
  });

  it("sorts a release train the way Fedora ships it", () => {
    const shuffled = ["1.0", "1.0^git1", "0.9", "1.0~rc2", "1.0.1", "1.0~rc1", "1.0~rc1^git5", "1.0^git1~pre", "1.01", "1.0a"];
    expect([...shuffled].sort(rpmvercmp)).toEqual(["0.9", "1.0~rc1", "1.0~rc1^git5", "1.0~rc2", "1.0", "1.0^git1~pre", "1.0^git1", "1.0a", "1.0.1", "1.01"]);
  });
});

describe("EVR parsing", () => {
  it("reads E:V-R, V-R and V, the release after the last dash", () => {
    expect(parseEvr("1:2.0-3.fc41")).toEqual({ ok: true, evr: { epoch: "1", version: "2.0", release: "3.fc41" } });
    expect(parseEvr("2.0-3")).toEqual({ ok: true, evr: { version: "2.0", release: "3" } });
    expect(parseEvr("2.0~rc1^git1")).toEqual({ ok: true, evr: { version: "2.0~rc1^git1" } });
  });

  it("renders back what it read", () => {
    for (const text of ["1:2.0-3.fc41", "2.0-3", "2.0", "0:1", "00:1.0~rc1-0.1"]) expect(renderEvr(evr(text))).toBe(text);
  });

  it("refuses text that is not an EVR, saying why", () => {
    expect(parseEvr("")).toEqual({ ok: false, reason: "is empty" });
    expect(parseEvr(":1.0")).toEqual({ ok: false, reason: "has an empty epoch before the colon" });
    expect(parseEvr("x:1.0")).toEqual({ ok: false, reason: 'has an epoch "x" that is not a number' });
    expect(parseEvr("1:-1")).toEqual({ ok: false, reason: "has no version" });
    expect(parseEvr("1.0-")).toEqual({ ok: false, reason: "has an empty release after the dash" });
    expect(parseEvr("1-2-3")).toMatchObject({ ok: false, reason: expect.stringContaining('version "1-2"') });
    expect(parseEvr("1.0 beta")).toMatchObject({ ok: false, reason: expect.stringContaining("characters rpm does not allow") });
    expect(parseEvr("1.0-1/2")).toMatchObject({ ok: false, reason: expect.stringContaining('release "1/2"') });
    expect(parseEvr("1".repeat(256))).toMatchObject({ ok: false, reason: expect.stringContaining("longer than 255") });
  });
});

describe("compareEvr (rpm.labelCompare)", () => {
  it.each(evrCases)("orders %s against %s as %i", (a, b, expected) => {
    expect(compareEvr(evr(a), evr(b))).toBe(expected);
    expect(compareEvr(evr(b), evr(a))).toBe(-expected || 0);
  });

  it("compares the epoch first, as a number of any length", () => {
    expect(compareEvr({ epoch: "1", version: "0.1", release: "1" }, { version: "99", release: "99" })).toBe(1);
    expect(compareEvr({ epoch: "99999999999999999999999", version: "1" }, { epoch: "99999999999999999999998", version: "9" })).toBe(1);
  });

  it("treats a missing release as older than any release, even an empty or tilde one", () => {
    expect(compareEvr({ version: "1" }, { version: "1", release: "~" })).toBe(-1);
    expect(compareEvr({ version: "1", release: "" }, { version: "1", release: "~" })).toBe(1);
    expect(compareEvr({ version: "1" }, { version: "1" })).toBe(0);
  });

  it("sorts builds oldest first when used as a comparator", () => {
    const builds = ["1.0-2", "1:0.1-1", "1.0~rc1-1", "1.0-10", "1.0^git1-1"].map(evr);
    expect(builds.sort(compareEvr).map(renderEvr)).toEqual(["1.0~rc1-1", "1.0-2", "1.0-10", "1.0^git1-1", "1:0.1-1"]);
  });
});

describe("compareNvr", () => {
  it.each(nvrCases)("orders %s against %s as %i", (a, b, expected) => {
    expect(compareNvr(a, b)).toEqual({ ok: true, order: expected });
    expect(compareNvr(b, a)).toEqual({ ok: true, order: -expected || 0 });
  });

  it("takes parsed NVRs as well as text", () => {
    const held = parseNvr("systemd-256.7-1.fc41");
    if (!held.ok) throw new Error(held.reason);
    expect(compareNvr(held.nvr, "systemd-256.10-1.fc41")).toEqual({ ok: true, order: -1 });
    expect(evrOfNvr(held.nvr)).toEqual({ version: "256.7", release: "1.fc41" });
  });

  it("refuses to order builds of different packages or text that is not an NVR", () => {
    expect(compareNvr("foo-1.0-1", "foo-bar-1.0-1")).toEqual({ ok: false, reason: "builds of different packages have no order: foo and foo-bar" });
    expect(compareNvr("foo-1.0", "foo-1.0-1")).toEqual({ ok: false, reason: "foo-1.0 is not name-version-release: no version between the last two dashes" });
    expect(compareNvr("foo-1.0-1", "")).toEqual({ ok: false, reason: " is empty" });
  });
});

describe("EVR ranges", () => {
  it("reads one constraint or several joined by commas, and renders them back", () => {
    expect(parseEvrRange(">= 2.0")).toEqual({ ok: true, range: [{ operator: ">=", evr: { version: "2.0" } }] });
    expect(parseEvrRange(">=2.0,<3")).toEqual({ ok: true, range: [{ operator: ">=", evr: { version: "2.0" } }, { operator: "<", evr: { version: "3" } }] });
    expect(renderEvrRange(range(" = 1:2.0-1 ,  > 0 "))).toBe("= 1:2.0-1, > 0");
  });

  it("refuses a range it cannot read, naming the constraint", () => {
    expect(parseEvrRange("")).toEqual({ ok: false, reason: "is empty" });
    expect(parseEvrRange(">= 2.0,")).toEqual({ ok: false, reason: 'has an empty constraint in ">= 2.0,"' });
    expect(parseEvrRange("2.0")).toMatchObject({ ok: false, reason: expect.stringContaining('constraint "2.0" that is not an operator') });
    expect(parseEvrRange("== 2.0")).toMatchObject({ ok: false, reason: expect.stringContaining('constraint "== 2.0"') });
    expect(parseEvrRange("=> 2.0")).toMatchObject({ ok: false, reason: expect.stringContaining('constraint "=> 2.0"') });
    expect(parseEvrRange(">= 2.0 beta")).toMatchObject({ ok: false, reason: expect.stringContaining('constraint ">= 2.0 beta"') });
    expect(parseEvrRange(">= x:2")).toEqual({ ok: false, reason: 'has a constraint ">= x:2" whose EVR has an epoch "x" that is not a number' });
    expect(parseEvrRange(Array(21).fill("> 1").join(","))).toEqual({ ok: false, reason: "has more than 20 constraints" });
  });

  it("holds only when every constraint holds", () => {
    const r = range(">= 2.0, < 3");
    expect(matchesEvrRange(evr("2.0-1.fc41"), r)).toBe(true);
    expect(matchesEvrRange(evr("2.99-1"), r)).toBe(true);
    expect(matchesEvrRange(evr("1.9-1"), r)).toBe(false);
    expect(matchesEvrRange(evr("3.0-1"), r)).toBe(false);
    expect(matchesEvrRange(evr("3~rc1-1"), r)).toBe(true);
    expect(matchesEvrRange(evr("2.0~rc1-1"), r)).toBe(false);
  });

  it("compares releases only when the bound has one, as rpm's Requires do", () => {
    const build = evr("2.0-1.fc41");
    expect(matchesEvrRange(build, range("= 2.0"))).toBe(true);
    expect(matchesEvrRange(build, range("<= 2.0"))).toBe(true);
    expect(matchesEvrRange(build, range("> 2.0"))).toBe(false);
    expect(matchesEvrRange(build, range("< 2.0"))).toBe(false);
    expect(matchesEvrRange(build, range("> 2.0-0.9"))).toBe(true);
    expect(matchesEvrRange(build, range("= 2.0-1.fc42"))).toBe(false);
    expect(matchesEvrRange(build, range("< 2.0-1.fc42"))).toBe(true);
  });

  it("counts a missing epoch as 0, on either side", () => {
    expect(matchesEvrRange(evr("1:1.0-1"), range(">= 2.0"))).toBe(true);
    expect(matchesEvrRange(evr("1.0-1"), range("< 1:0.1"))).toBe(true);
    expect(matchesEvrRange(evr("0:2.0-1"), range("= 2.0"))).toBe(true);
  });
});

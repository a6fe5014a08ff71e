// Pure rules of "newer" for Koji tag releases: which waiting release wins, and what is a downgrade.
import { describe, expect, it } from "vitest";
import { buildKojiTag, renderKojiTag } from "../../src/domain/documents/kojiTag.js";
import { downgradeReason, supersedingContender, type TagContender } from "../../src/domain/release.js";

const c = (id: string, seq: number, nvr: string | undefined, more: Partial<TagContender> = {}): TagContender => ({ id, seq, nvr, explicit: false, written: false, ...more });

describe("supersedingContender", () => {
  it("a later release of a newer or equal build replaces an earlier one", () => {
    expect(supersedingContender(c("a", 1, "p-1.0-1.fc45"), [c("b", 2, "p-1.0-2.fc45")])?.id).toBe("b");
    expect(supersedingContender(c("a", 1, "p-1.0-1.fc45"), [c("b", 2, "p-1.0-1.fc45")])?.id).toBe("b");
  });

  it("a later release of an older build does not replace a newer one; the earlier newer one wins over it instead", () => {
    const newer = c("a", 1, "p-2.10-1.fc45");
    const stale = c("b", 2, "p-2.9-1.fc45");
    expect(supersedingContender(newer, [stale])).toBeUndefined();
    expect(supersedingContender(stale, [newer])?.id).toBe("a");
  });

  it("an earlier release already written does not win over a later one: the document check decides", () => {
    expect(supersedingContender(c("b", 2, "p-1.0-1.fc45"), [c("a", 1, "p-2.0-1.fc45", { written: true })])).toBeUndefined();
  });

  it("a person's choice (rollback, force) replaces earlier releases whatever their builds, and is not replaced by earlier ones", () => {
    const rollback = c("r", 3, "p-1.0-1.fc45", { explicit: true });
    expect(supersedingContender(c("a", 1, "p-2.0-1.fc45"), [rollback])?.id).toBe("r");
    expect(supersedingContender(rollback, [c("a", 1, "p-2.0-1.fc45")])).toBeUndefined();
  });

  it("of several, the latest winning contender is named; unknown builds count as equal (arrival order)", () => {
    const r = c("a", 1, "p-1.0-1.fc45");
    expect(supersedingContender(r, [c("b", 2, "p-1.1-1.fc45"), c("d", 4, "p-1.2-1.fc45"), c("x", 3, "p-0.1-1.fc45")])?.id).toBe("d");
    expect(supersedingContender(c("a", 1, undefined), [c("b", 2, "p-0.1-1.fc45")])?.id).toBe("b");
  });
});

describe("downgradeReason", () => {
  const doc = (nvr: string) => buildKojiTag({ tag: "f45", package: "p", nvr }, { artifactId: "a1", releaseId: "01JD0000000000000000000000", environment: "rawhide" });
  it("names both builds when the document holds a newer one", () => {
    expect(downgradeReason(renderKojiTag(doc("p-1.0-2.fc45")), doc("p-1.0-1.fc45"))).toBe("downgrade: p-1.0-1.fc45 < p-1.0-2.fc45");
    expect(downgradeReason(renderKojiTag(doc("p-1.0-1.fc45")), doc("p-1.0~rc1-1.fc45"))).toBe("downgrade: p-1.0~rc1-1.fc45 < p-1.0-1.fc45");
    expect(downgradeReason(renderKojiTag(doc("p-1:0.9-1.fc45")), doc("p-2.0-1.fc45"))).toBe("downgrade: p-2.0-1.fc45 < p-1:0.9-1.fc45");
  });
  it("has nothing to say about an upgrade, the same build, no document yet, or an unreadable one", () => {
    expect(downgradeReason(renderKojiTag(doc("p-1.0-1.fc45")), doc("p-1.0^git1-1.fc45"))).toBeUndefined();
    expect(downgradeReason(renderKojiTag(doc("p-1.0-1.fc45")), doc("p-1.0-1.fc45"))).toBeUndefined();
    expect(downgradeReason(undefined, doc("p-1.0-1.fc45"))).toBeUndefined();
    expect(downgradeReason("not: [yaml", doc("p-1.0-1.fc45"))).toBeUndefined();
  });
});

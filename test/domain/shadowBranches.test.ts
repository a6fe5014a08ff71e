// The shadow repository's branches: the names the ingest flow queues on and the shadow writer pushes.
import { describe, expect, it } from "vitest";
import { mergeRequestBranch, SHADOW_MAIN } from "../../src/domain/shadowBranches.js";

describe("shadow branches", () => {
  it("name main and an update's merge request mr/<alias>", () => {
    expect(SHADOW_MAIN).toBe("main");
    expect(mergeRequestBranch("FEDORA-2019-02cd019281")).toBe("mr/FEDORA-2019-02cd019281");
  });
});

// The sentence a hold stops a release with: policies, the writer and the API all say it.
import { describe, expect, it } from "vitest";
import { heldReason } from "../../src/domain/hold.js";

describe("heldReason", () => {
  it("names the environment and package held and the reason given", () => {
    expect(heldReason({ environment: "rawhide", package: "python-requests", reason: "rolled back by alice" })).toBe("rawhide/python-requests is held: rolled back by alice");
  });

  it("takes a stored hold as it is (its other fields are not part of the sentence)", () => {
    const stored = { id: "01JHOLD", environment: "f44-updates", package: "bash", reason: "mass rebuild in progress", createdBy: "bob", createdAt: new Date(0), releaseId: null };
    expect(heldReason(stored)).toBe("f44-updates/bash is held: mass rebuild in progress");
  });

  it("keeps the reason as written, punctuation and all", () => {
    expect(heldReason({ environment: "e", package: "p", reason: "waiting: CVE-2026-1; see ticket" })).toBe("e/p is held: waiting: CVE-2026-1; see ticket");
  });
});

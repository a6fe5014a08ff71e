// The branch key: its values are hashed into PostgreSQL advisory locks, so replicas of different versions must agree on them.
import { describe, expect, it } from "vitest";
import { branchKey, shadowLeaseKey } from "../../src/gitops/branchKey.js";
import { leaseKey } from "../../src/gitops/writer.js";

describe("branchKey", () => {
  it("keeps the values earlier versions lease by", () => {
    expect(branchKey("https://git.example/gitops.git", "main")).toBe("https://git.example/gitops.git#main");
    expect(leaseKey({ url: "/srv/gitops.git", branch: "rawhide" })).toBe("/srv/gitops.git#rawhide");
    expect(shadowLeaseKey("/srv/shadow.git")).toBe("/srv/shadow.git#shadow");
  });
});

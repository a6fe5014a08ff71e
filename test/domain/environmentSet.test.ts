import { describe, expect, it } from "vitest";
import { emptyEnvironmentSet } from "../../src/domain/environmentSet.js";

describe("emptyEnvironmentSet", () => {
  it("declares nothing and says where it would have been read from", () => {
    const set = emptyEnvironmentSet("/srv/policies/environments.yaml");
    expect(set.environments.size).toBe(0);
    expect(set.repositories.size).toBe(0);
    expect(set.source).toBe("/srv/policies/environments.yaml");
  });

  it("gives each caller a set of its own", () => {
    const a = emptyEnvironmentSet("a");
    const b = emptyEnvironmentSet("b");
    expect(a.environments).not.toBe(b.environments);
    expect(a.repositories).not.toBe(b.repositories);
  });
});

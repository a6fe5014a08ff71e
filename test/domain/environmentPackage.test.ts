import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PACKAGE_PATTERN } from "../../src/domain/artifact.js";
import { ENVIRONMENT_NAME_PATTERN } from "../../src/domain/documents/envelope.js";
import { environmentPackageKey } from "../../src/domain/environmentPackage.js";

const environment = fc.stringMatching(ENVIRONMENT_NAME_PATTERN);
const pkg = fc.stringMatching(PACKAGE_PATTERN);

describe("environmentPackageKey", () => {
  it("gives two pairs the same key only when they are the same pair", () => {
    fc.assert(
      fc.property(environment, pkg, environment, pkg, (e1, p1, e2, p2) => {
        const same = environmentPackageKey({ environment: e1, package: p1 }) === environmentPackageKey({ environment: e2, package: p2 });
        expect(same).toBe(e1 === e2 && p1 === p2);
      }),
    );
  });

  it("keeps apart pairs whose names run together (f45 + a-b against f45-a + b)", () => {
    expect(environmentPackageKey({ environment: "f45", package: "a-b" })).not.toBe(environmentPackageKey({ environment: "f45-a", package: "b" }));
  });

  it("reads a pair's own fields, whatever else the record carries", () => {
    const release = { id: "r1", environment: "f45-updates", package: "glibc", status: "queued" };
    expect(environmentPackageKey(release)).toBe(environmentPackageKey({ environment: "f45-updates", package: "glibc" }));
  });
});

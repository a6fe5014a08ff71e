// Claim rules on plain values: which rule, if any, a token's claims satisfy.
import { describe, expect, it } from "vitest";
import { claimMatches, matchingRule } from "../../src/auth/claimMapping.js";

const rules: { name: string; claims: Record<string, string[]> }[] = [
  { name: "ci", claims: { project_path: ["fedora/rpms/python-*"], ref_protected: ["true"] } },
  { name: "releaser", claims: { groups: ["releng", "!banned"] } },
  { name: "admin", claims: { groups: ["sysadmin-main"], amr: ["mfa"] } },
];
const ruleFor = (claims: Record<string, unknown>) => matchingRule(rules, claims)?.name;

describe("claim rules", () => {
  it("matches a string claim by glob; * does not cross a /", () => {
    expect(ruleFor({ project_path: "fedora/rpms/python-requests", ref_protected: "true" })).toBe("ci");
    expect(ruleFor({ project_path: "fedora/rpms/python-x/sub", ref_protected: "true" })).toBeUndefined();
    expect(ruleFor({ project_path: "forks/fedora/rpms/python-requests", ref_protected: "true" })).toBeUndefined();
  });

  it("needs every claim of a rule: a matching project on an unprotected ref is not enough", () => {
    expect(ruleFor({ project_path: "fedora/rpms/python-requests", ref_protected: "false" })).toBeUndefined();
    expect(ruleFor({ project_path: "fedora/rpms/python-requests" })).toBeUndefined();
  });

  it("compares booleans and numbers as their text", () => {
    expect(ruleFor({ project_path: "fedora/rpms/python-requests", ref_protected: true })).toBe("ci");
    expect(claimMatches(["42"], ["4*"])).toBe(true);
  });

  it("matches a list claim when one element matches and none is negated", () => {
    expect(ruleFor({ groups: ["packager", "releng"] })).toBe("releaser");
    expect(ruleFor({ groups: ["releng", "banned"] })).toBeUndefined();
    expect(ruleFor({ groups: [] })).toBeUndefined();
    expect(ruleFor({ groups: "releng" })).toBe("releaser");
  });

  it("takes the first rule that matches, in order", () => {
    expect(ruleFor({ groups: ["releng", "sysadmin-main"], amr: ["pwd", "mfa"] })).toBe("releaser");
    expect(ruleFor({ groups: ["sysadmin-main"], amr: ["mfa"] })).toBe("admin");
    expect(ruleFor({ groups: ["sysadmin-main"], amr: ["pwd"] })).toBeUndefined();
  });

  it("finds nothing in a missing claim, an object claim or an inherited property", () => {
    expect(claimMatches([], ["!banned"])).toBe(false);
    expect(ruleFor({ groups: { releng: true } })).toBeUndefined();
    expect(matchingRule([{ claims: { constructor: ["*"] } }], {})).toBeUndefined();
    expect(matchingRule([{ claims: { toString: ["*"] } }], JSON.parse('{"__proto__": "x"}') as Record<string, unknown>)).toBeUndefined();
  });
});

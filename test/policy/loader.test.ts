// Loading a policies folder: every problem, each on the line of the key it is about.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPolicies, loadPolicies, PolicyLoadError } from "../../src/policy/loader.js";

const SHIPPED = path.resolve(__dirname, "../../policies");
const REPO = "data/gitops.git";

const policyYaml = (name: string, environment: string) =>
  ["apiVersion: relengd/v1", "kind: Policy", "metadata:", `  name: ${name}`, "spec:", "  on: [artifact]", "  release:", `    environment: ${environment}`, ""].join("\n");

describe("policy folder checks", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-policy-loader-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const folder = (name: string, files: Record<string, string>, environments = true) => {
    const d = path.join(dir, name);
    mkdirSync(d);
    if (environments) cpSync(path.join(SHIPPED, "environments.yaml"), path.join(d, "environments.yaml"));
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(d, f), text);
    return d;
  };

  it("reports an unknown environment and a policy name used twice on the line of that key", () => {
    const d = folder("lines", { "a.yaml": policyYaml("same", "rawhide"), "b.yaml": policyYaml("same", "rawhid") });
    const check = checkPolicies(d, REPO);
    expect(check.set).toBeUndefined();
    expect(check.problems).toEqual([
      `${d}/b.yaml:4: /metadata/name: policy same is also defined in ${d}/a.yaml`,
      `${d}/b.yaml:8: /spec/release/environment: no environment rawhid in ${d}/environments.yaml`,
    ]);
    expect(() => loadPolicies(d, REPO)).toThrow(PolicyLoadError);
    expect(() => loadPolicies(d, REPO)).toThrow(check.problems.join("\n"));
  });

  it("checks the policy files when environments.yaml is broken, and loadPolicies refuses with every problem", () => {
    const d = folder("broken-environments", { "environments.yaml": "apiVersion: relengd/v1\nkind: Environments\nrepositories: []\nenvironments: []\n", "bad.yaml": policyYaml("Bad", "rawhide"), "nowhere.yaml": policyYaml("nowhere", "nowhere") }, false);
    const check = checkPolicies(d, REPO);
    expect(check).toEqual({
      files: 2,
      environments: 0,
      // nowhere.yaml's environment is not reported: there are no environments to check it against.
      problems: [`${d}/environments.yaml:3: /repositories: must have at least one item`, `${d}/bad.yaml:4: /metadata/name: must be lowercase letters, digits and -`],
    });
    try {
      loadPolicies(d, REPO);
      expect.unreachable("loadPolicies accepted a broken folder");
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyLoadError);
      expect((err as PolicyLoadError).problems).toEqual(check.problems);
    }
  });

  it("loads a valid folder with one policy per file", () => {
    const d = folder("valid", { "a.yaml": policyYaml("a", "rawhide") });
    const check = checkPolicies(d, REPO);
    expect(check).toMatchObject({ files: 1, problems: [] });
    expect(check.set?.policies.map((p) => p.metadata.name)).toEqual(["a"]);
    expect(loadPolicies(d, REPO).policies).toHaveLength(1);
  });

  const approvalYaml = (name: string) =>
    ["apiVersion: relengd/v1", "kind: ApprovalPolicy", "metadata:", `  name: ${name}`, "spec:", "  kinds: [SideTag]", "  when: {baseTagAllowed: false}", "  decision: deny", '  reason: "no side tag of {base_tag}"', ""].join("\n");
  const factsYaml = (groups: string) => ["apiVersion: relengd/v1", "kind: Facts", "spec:", "  sources:", `    groups: ${groups}`, ""].join("\n");

  it("loads approval policies and the facts configuration beside release policies", () => {
    const d = folder("kinds", { "a.yaml": policyYaml("a", "rawhide"), "approval.yaml": approvalYaml("sidetag-base-tag"), "facts.yaml": factsYaml("facts/groups.json") });
    const check = checkPolicies(d, REPO);
    expect(check.problems).toEqual([]);
    expect(check.files).toBe(3);
    expect(check.set?.policies.map((p) => p.metadata.name)).toEqual(["a"]);
    expect(check.set?.approvalPolicies.map((p) => p.metadata.name)).toEqual(["sidetag-base-tag"]);
    expect(check.set?.facts).toEqual({ apiVersion: "relengd/v1", kind: "Facts", spec: { refresh: "15m", sources: { groups: "facts/groups.json" } } });
    // Without a Facts file there are no facts to read.
    expect(checkPolicies(folder("no-facts", { "a.yaml": policyYaml("a", "rawhide") }), REPO).set?.facts).toBeUndefined();
  });

  it("reports an unknown or missing kind, a name shared by a release and an approval policy, and a second Facts file, each on its line", () => {
    const d = folder("mixed", {
      "a.yaml": policyYaml("same", "rawhide"),
      "b.yaml": approvalYaml("same"),
      "c.yaml": "# a comment first\napiVersion: relengd/v1\nkind: Environment\n",
      "d.yaml": "apiVersion: relengd/v1\nspec: {}\n",
      "e.yaml": factsYaml("facts/groups.json"),
      "f.yaml": factsYaml("../../etc/group"),
      "g.yaml": factsYaml("facts/groups.json"),
      "h.yaml": "- kind: Policy\n",
    });
    const check = checkPolicies(d, REPO);
    expect(check.set).toBeUndefined();
    expect(check.problems).toEqual([
      `${d}/b.yaml:4: /metadata/name: policy same is also defined in ${d}/a.yaml`,
      `${d}/c.yaml:3: /kind: kind is "Environment"; a policy file holds one of Policy, ApprovalPolicy, Facts`,
      `${d}/d.yaml:1: /kind: kind is missing; a policy file holds one of Policy, ApprovalPolicy, Facts`,
      `${d}/f.yaml:5: /spec/sources/groups: must be a path inside the policies folder (like facts/groups.json) or an https URL`,
      `${d}/g.yaml:2: /kind: the facts are also configured in ${d}/e.yaml; keep one Facts file`,
      `${d}/h.yaml:1: /kind: kind is missing; a policy file holds one of Policy, ApprovalPolicy, Facts`,
    ]);
  });

  it("loads the shipped folder: release policies, approval policies and the facts configuration", () => {
    const set = loadPolicies(SHIPPED, REPO);
    expect(set.policies.length).toBeGreaterThan(0);
    expect(set.approvalPolicies.length).toBeGreaterThan(0);
    expect(set.facts?.spec.sources.kojiSidetag).toBe("facts/koji-sidetag.json");
  });
});

// Report policies (issue 18): spec.report instead of spec.release, on a schedule only, with
// problems named at their field.
import { describe, expect, it } from "vitest";
import { isReportPolicy, parseAnyPolicyYaml, reportTarget } from "../../src/domain/policy.js";

const yaml = (spec: string) => `apiVersion: relengd/v1\nkind: Policy\nmetadata: {name: r}\nspec:\n${spec}`;
const schedule = `  schedule: {cron: "0 4 * * *"}\n`;
const report = `  report: {tree: rawhide, arches: [x86_64], repos: [{id: f45-build, url: 'https://kojipkgs.fedoraproject.org/repos/f45-build/latest/$arch/'}]}\n`;

function problems(text: string): string[] {
  const r = parseAnyPolicyYaml(text);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
}

describe("report policies", () => {
  it("parse into the tree and the repoclosure target", () => {
    const r = parseAnyPolicyYaml(yaml(`  on: [schedule]\n${schedule}${report}`));
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(isReportPolicy(r.value)).toBe(true);
    if (!isReportPolicy(r.value)) return;
    expect(reportTarget(r.value)).toEqual({ tree: "rawhide", target: { arches: ["x86_64"], repos: [{ id: "f45-build", url: "https://kojipkgs.fedoraproject.org/repos/f45-build/latest/$arch/" }], lookaside: [] } });
  });

  it("a release policy still parses as one", () => {
    const r = parseAnyPolicyYaml(yaml(`  on: [schedule]\n${schedule}  release: {environment: rawhide-compose}\n`));
    expect(r.ok && !isReportPolicy(r.value)).toBe(true);
  });

  it("runs on schedule only", () => {
    expect(problems(yaml(`  on: [artifact]\n${schedule}${report}`))).toEqual(["/spec/on: a report policy runs on schedule only: on: [schedule]"]);
    expect(problems(yaml(`  on: [schedule]\n${report}`))).toEqual(["/spec/schedule: a report policy needs spec.schedule.cron"]);
  });

  it("has a release or a report, not both, and no match, require or select", () => {
    expect(problems(yaml(`  on: [schedule]\n${schedule}${report}  release: {environment: rawhide-compose}\n`))).toEqual([
      "/spec/report: a policy has spec.release (release an artifact) or spec.report (a scheduled report), not both",
    ]);
    expect(problems(yaml(`  on: [schedule]\n${schedule}${report}  match: {package: [foo]}\n`))).toEqual(["/spec/match: a report policy has no match: it checks spec.report's repositories on spec.schedule"]);
  });

  it("names the target's field: a check naming no repo, a repo named twice, a bad url", () => {
    const target = (inner: string) => yaml(`  on: [schedule]\n${schedule}  report: {tree: rawhide, arches: [x86_64], ${inner}}\n`);
    expect(problems(target("repos: [{id: a, url: 'file:///r'}], check: [b]"))).toEqual(["/spec/report/check/0: b is not one of repos"]);
    expect(problems(target("repos: [{id: a, url: 'file:///r'}, {id: a, url: 'file:///s'}]"))).toEqual(["/spec/report/repos/1/id: repo id a is named twice"]);
    expect(problems(target("repos: [{id: a, url: 'ftp://x'}]"))[0]).toMatch(/^\/spec\/report\/repos\/0\/url: must be a file:\/\//);
    expect(problems(yaml(`  on: [schedule]\n${schedule}  report: {tree: "<b>", arches: [x86_64], repos: [{id: a, url: 'file:///r'}]}\n`))[0]).toMatch(/^\/spec\/report\/tree:/);
  });
});

import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitPolicySource } from "../../src/policy/gitSource.js";
import { PolicyHolder } from "../../src/policy/loader.js";
import { git } from "../support/remote.js";

const SHIPPED = path.resolve(__dirname, "../../policies");

describe("policies read from a git repository", () => {
  let dir: string;
  let remote: string;
  let work: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-policy-git-"));
    remote = path.join(dir, "config.git");
    work = path.join(dir, "work");
    git(dir, "init", "--quiet", "--bare", "--initial-branch=main", remote);
    git(dir, "clone", "--quiet", remote, "work");
    git(work, "config", "user.name", "Release Engineer");
    git(work, "config", "user.email", "releng@example.org");
    cpSync(SHIPPED, path.join(work, "relengd"), { recursive: true });
    git(work, "add", ".");
    git(work, "commit", "--quiet", "-m", "relengd policies");
    git(work, "push", "--quiet", "origin", "HEAD:main");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loads the branch's policies, follows merged changes on reload, and keeps the set when a change is broken", async () => {
    const source = new GitPolicySource({ url: remote, branch: "main", path: "relengd", checkout: path.join(dir, "checkout") });
    await source.sync();
    const holder = new PolicyHolder(source.dir, path.join(dir, "gitops.git"), source);
    const names = () => holder.get().policies.map((p) => p.metadata.name).sort();
    expect(names()).toContain("mass-rebuild");

    // A merge request removing a policy lands on main.
    git(work, "rm", "--quiet", "relengd/mass-rebuild.yaml");
    git(work, "commit", "--quiet", "-m", "no mass rebuild this cycle");
    git(work, "push", "--quiet", "origin", "HEAD:main");
    expect(await holder.reload()).toMatchObject({ ok: true });
    expect(names()).not.toContain("mass-rebuild");
    const good = names();

    writeFileSync(path.join(work, "relengd/typo.yaml"), "apiVersion: relengd/v1\nkind: Policy\nmetadata: {name: typo}\nspec:\n  on: [artifact]\n  release: {environment: rawhid}\n");
    git(work, "add", ".");
    git(work, "commit", "--quiet", "-m", "typo");
    git(work, "push", "--quiet", "origin", "HEAD:main");
    const result = await holder.reload();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain("typo.yaml:6: /spec/release/environment: no environment rawhid");
    expect(names()).toEqual(good);
  });

  it("refuses a policies path that leaves the repository", () => {
    expect(() => new GitPolicySource({ url: remote, branch: "main", path: "../etc", checkout: path.join(dir, "x") })).toThrow("inside it");
  });
});

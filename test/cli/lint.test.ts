// `relengd lint` on hand-written GitOps checkouts and `relengd schema export`, as child processes (no server).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRelengd } from "../support/cliProcess.js";
import { cleanEnv } from "../support/serverProcess.js";

const relengd = (args: string[]) => runRelengd(args, cleanEnv());

const bodhiUpdate = `apiVersion: relengd/v1
kind: BodhiUpdate
spec:
  release: F44
  builds:
    - python-requests-2.32.3-1.fc44
  type: security
  severity: high
  notes: Fixes CVE-2024-35195
  bugs: [2282114]
  request: testing
  autokarma: true
  stable_karma: 3
  unstable_karma: -3
  autotime: true
  stable_days: 7
`;

const kojiTag = (pkg: string, nvr: string, extra = "") => `# Hand-written: tag ${pkg} for the mass rebuild.
apiVersion: relengd/v1
kind: KojiTag
metadata: {}
spec:
  tag: f45
  package: ${pkg}
  nvr: ${nvr}
${extra}`;

function write(root: string, file: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
}

describe("relengd lint and relengd schema export", () => {
  let dir: string;
  let clean: string;
  let broken: string;
  let lookAlike: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "relengd-lint-"));
    clean = path.join(dir, "clean");
    write(clean, "bodhi/F44/python-requests.yaml", bodhiUpdate);
    // Not documents: other files, YAML outside the document folders, anything under .git.
    write(clean, "koji/README.md", "# Koji tag requests\n");
    write(clean, "ci/pipeline.yaml", "not: [a document\n");
    write(clean, ".git/config.yaml", "nope\n");

    broken = path.join(dir, "broken");
    write(broken, "bodhi/F44/python-requests.yaml", bodhiUpdate);
    write(broken, "koji/tags/f45/foo.yaml", kojiTag("bar", "bar-1.0-1.fc45"));
    write(broken, "koji/tags/f45/baz.yaml", kojiTag("baz", "baz-1.0"));
    write(broken, "koji/tags/f45/qux.yaml", kojiTag("qux", "qux-1.0-1.fc45", "  colour: blue\n"));
    write(broken, "composes/rawhide/nightly.yaml", "apiVersion: relengd/v1\nkind: ComposeRequest\nspec:\n  release: [rawhide\n");
    write(broken, "koji/tags/f45/..quux.yaml", kojiTag("quux", "quux-1.0-1.fc45"));
    // U+2215 DIVISION SLASH: looks like a path separator, is not one.
    lookAlike = "koji/tags/f45/evil\u2215passwd.yaml";
    write(broken, lookAlike, kojiTag("evil", "evil-1.0-1.fc45"));
    symlinkSync("/etc/hostname", path.join(broken, "composes/rawhide/link.yaml"));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("passes a valid checkout with exit 0 and reports problems as path:line with exit 1", async () => {
    const [ok, bad, missing] = await Promise.all([relengd(["lint", clean]), relengd(["lint", broken]), relengd(["lint", path.join(dir, "nowhere")])]);

    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toBe("1 document, 0 problems\n");

    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stderr).toBe("");
    const lines = bad.stdout.trimEnd().split("\n");
    // The link is a problem, not a document.
    expect(lines.at(-1)).toBe("7 documents, 7 problems");
    // Sorted by path, so a reviewer reads them in the order the forge lists the files.
    expect(lines.slice(0, -1)).toEqual([
      "composes/rawhide/link.yaml:1: a symbolic link: documents are regular files, and a link could point outside the repo",
      expect.stringMatching(/^composes\/rawhide\/nightly\.yaml:[45]: YAML: /),
      'koji/tags/f45/..quux.yaml:1: path segment "..quux.yaml" is not allowed: a segment is ASCII letters, digits and ._+- (starting with a letter, digit or _), at most 128 characters, without ".."',
      // One problem per cause: a bad NVR is not also "not a build of the package".
      "koji/tags/f45/baz.yaml:8: /spec/nvr must be a valid NVR",
      `${lookAlike}:1: path segment "evil\\u2215passwd.yaml" is not allowed: a segment is ASCII letters, digits and ._+- (starting with a letter, digit or _), at most 128 characters, without ".."`,
      // A problem with a whole mapping is on the line of its key; an unknown field on its own line.
      "koji/tags/f45/foo.yaml:5: /spec a KojiTag with this spec must live at koji/tags/f45/bar.yaml, not koji/tags/f45/foo.yaml",
      "koji/tags/f45/qux.yaml:9: /spec/colour is not a known field",
    ]);

    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nowhere: no such directory");
  });

  it("says of each refused field what it must be, in words, never zod's own text", async () => {
    const words = path.join(dir, "words");
    const hand = bodhiUpdate
      .replace("  stable_karma: 3\n", "")
      .replace("stable_days: 7", "stable_days: seven")
      .replace("type: security", "type: hotfix")
      .replace("bugs: [2282114]", "bugs: [0]")
      .replace("builds:\n    - python-requests-2.32.3-1.fc44", "builds: []");
    write(words, "bodhi/F44/python-requests.yaml", hand);
    const run = await relengd(["lint", words]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout.trimEnd().split("\n")).toEqual([
      "bodhi/F44/python-requests.yaml:3: /spec/stable_karma is required: a whole number",
      "bodhi/F44/python-requests.yaml:5: /spec/builds must have at least one item",
      'bodhi/F44/python-requests.yaml:6: /spec/type must be one of "newpackage", "security", "bugfix", "enhancement", "unspecified"',
      "bodhi/F44/python-requests.yaml:9: /spec/bugs/0 must be greater than 0",
      "bodhi/F44/python-requests.yaml:14: /spec/stable_days must be a whole number, not a string",
      "1 document, 5 problems",
    ]);
    expect(run.stdout).not.toMatch(/Invalid input|expected \w+, received|Too (small|big)/);
  });

  it("exports the JSON Schema of the artifact and of each document kind", async () => {
    const out = path.join(dir, "schemas", "v1");
    const [exported, shown] = await Promise.all([relengd(["schema", "export", out]), relengd(["schema", "show", "bodhiupdate"])]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["BodhiUpdate.schema.json", "ComposeRequest.schema.json", "KojiTag.schema.json", "artifact.schema.json"]);
    for (const file of readdirSync(out)) {
      const schema = JSON.parse(readFileSync(path.join(out, file), "utf8")) as Record<string, unknown>;
      expect(schema.$schema, file).toBe("https://json-schema.org/draft/2020-12/schema");
      expect(schema.type, file).toBe("object");
    }
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe(readFileSync(path.join(out, "BodhiUpdate.schema.json"), "utf8"));
  });
});

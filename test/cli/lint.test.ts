// `relengd lint` on hand-written GitOps checkouts and `relengd schema export`, as child processes (no server).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderProposedDocument } from "../../src/domain/requests/index.js";
import { runRelengd } from "../support/cliProcess.js";
import { event, massBranch, massRebuild, meeting, sig } from "../support/requestKinds17.js";
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

// Requests people write: a BranchRequest with service levels, a RepoRequest as fedpkg files it, a SideTag.
const branchRequest = `apiVersion: relengd/v1
kind: BranchRequest
spec:
  namespace: rpms
  repo: nethack
  branch: "9"
  create_git_branch: true
  sls:
    security_fixes: "2030-12-01"
    bug_fixes: "2030-12-01"
`;
const repoRequest = `{"apiVersion": "relengd/v1", "kind": "RepoRequest", "spec": {"branch": "master", "bug_id": 1441813, "description": "", "exception": false,
 "monitor": "monitoring", "namespace": "rpms", "repo": "nethack", "summary": "A rogue-like single player dungeon exploration game", "upstreamurl": ""}}
`;
const sideTag = `apiVersion: relengd/v1
kind: SideTag
spec:
  base_tag: f43-build
  debuginfo: true
  packages:
    - qt6-qtbase
    - qt6-qtdeclarative
`;

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
    write(clean, "distgit/branches/rpms/nethack/9.yaml", branchRequest);
    write(clean, "distgit/repos/rpms/nethack.yaml", repoRequest);
    write(clean, "koji/sidetags/alice/qt6.yaml", sideTag);
    write(clean, "distgit/README.md", "# Requests for dist-git\n");
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
    // Requests: at another repo's path, with metadata relengd never writes, a side tag under an owner that is not a user name.
    write(broken, "distgit/branches/rpms/sudoku/9.yaml", branchRequest);
    write(broken, "distgit/repos/rpms/nethack.yaml", repoRequest.replace('"spec"', '"metadata": {}, "spec"'));
    write(broken, "koji/sidetags/Alice/qt6.yaml", sideTag);
    write(broken, "koji/sidetags/alice/tzdata.yaml", kojiTag("tzdata", "tzdata-2026a-1.fc45"));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("passes a valid checkout with exit 0 and reports problems as path:line with exit 1", async () => {
    const [ok, bad, missing] = await Promise.all([relengd(["lint", clean]), relengd(["lint", broken]), relengd(["lint", path.join(dir, "nowhere")])]);

    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toBe("4 documents, 0 problems\n");

    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stderr).toBe("");
    const lines = bad.stdout.trimEnd().split("\n");
    // The link is a problem, not a document.
    expect(lines.at(-1)).toBe("11 documents, 11 problems");
    // Sorted by path, so a reviewer reads them in the order the forge lists the files.
    expect(lines.slice(0, -1)).toEqual([
      "composes/rawhide/link.yaml:1: a symbolic link: documents are regular files, and a link could point outside the repo",
      expect.stringMatching(/^composes\/rawhide\/nightly\.yaml:[45]: YAML: /),
      "distgit/branches/rpms/sudoku/9.yaml:3: /spec a BranchRequest with this spec must live at distgit/branches/rpms/nethack/9.yaml, not distgit/branches/rpms/sudoku/9.yaml",
      "distgit/repos/rpms/nethack.yaml:1: /metadata is not a known field",
      "koji/sidetags/Alice/qt6.yaml:1: a SideTag must live at koji/sidetags/<owner>/<label>.yaml (owner a user name: lowercase letters, digits and _.-), not koji/sidetags/Alice/qt6.yaml",
      "koji/sidetags/alice/tzdata.yaml:5: /spec a KojiTag with this spec must live at koji/tags/f45/tzdata.yaml, not koji/sidetags/alice/tzdata.yaml",
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

  it("lints the issue 17 kinds at their folders: releases/, rebuilds/, sigs/, events/, calendar/", async () => {
    const kinds = path.join(dir, "kinds17");
    write(kinds, "releases/f44/branching.yaml", renderProposedDocument(massBranch));
    write(kinds, "rebuilds/f39.yaml", renderProposedDocument(massRebuild));
    write(kinds, "sigs/python-sig.yaml", renderProposedDocument(sig));
    write(kinds, "events/flock-2026.yaml", renderProposedDocument(event));
    write(kinds, "calendar/council/2026-12-09-fesco-meeting.yaml", renderProposedDocument(meeting));
    const ok = await relengd(["lint", kinds]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toBe("5 documents, 0 problems\n");

    const bad = path.join(dir, "kinds17-bad");
    write(bad, "releases/f43/branching.yaml", renderProposedDocument(massBranch));
    write(bad, "rebuilds/f39.yaml", renderProposedDocument(massRebuild).replace("2023-07-19 10:30", "2023-02-30 10:30"));
    write(bad, "sigs/go-sig.yaml", renderProposedDocument(sig));
    write(bad, "events/flock-2026.yaml", renderProposedDocument(event).replace("size: large", "size: huge"));
    write(bad, "calendar/council/2026-12-10-fesco-meeting.yaml", renderProposedDocument(meeting));
    symlinkSync("/etc/hostname", path.join(bad, "calendar/council/2026-12-09-link.yaml"));
    const run = await relengd(["lint", bad]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout.trimEnd().split("\n")).toEqual([
      "calendar/council/2026-12-09-link.yaml:1: a symbolic link: documents are regular files, and a link could point outside the repo",
      "calendar/council/2026-12-10-fesco-meeting.yaml:5: /spec/meeting_date the path names 2026-12-10, the meeting is on 2026-12-09: a CalendarEntry lives at calendar/<calendar>/<meeting_date>-<slug>.yaml",
      'events/flock-2026.yaml:10: /spec/size must be one of "small", "large"',
      "rebuilds/f39.yaml:4: /spec/epoch must be on a day that exists",
      "releases/f43/branching.yaml:3: /spec a MassBranch with this spec must live at releases/f44/branching.yaml, not releases/f43/branching.yaml",
      "sigs/go-sig.yaml:3: /spec a SigRequest with this spec must live at sigs/python-sig.yaml, not sigs/go-sig.yaml",
      "5 documents, 6 problems",
    ]);
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

  it("exports the JSON Schema of the artifact, of each document kind and of each request kind", async () => {
    const out = path.join(dir, "schemas", "v1");
    const [exported, shown, sideTagShown] = await Promise.all([relengd(["schema", "export", out]), relengd(["schema", "show", "bodhiupdate"]), relengd(["schema", "show", "sidetag"])]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      "BodhiUpdate.schema.json",
      "BranchRequest.schema.json",
      "CalendarEntry.schema.json",
      "ComposeRequest.schema.json",
      "EventRequest.schema.json",
      "KojiTag.schema.json",
      "MassBranch.schema.json",
      "MassRebuild.schema.json",
      "RepoRequest.schema.json",
      "SideTag.schema.json",
      "SigRequest.schema.json",
      "artifact.schema.json",
    ]);
    for (const file of readdirSync(out)) {
      const schema = JSON.parse(readFileSync(path.join(out, file), "utf8")) as Record<string, unknown>;
      expect(schema.$schema, file).toBe("https://json-schema.org/draft/2020-12/schema");
      expect(schema.type, file).toBe("object");
    }
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe(readFileSync(path.join(out, "BodhiUpdate.schema.json"), "utf8"));
    expect(sideTagShown.code, sideTagShown.stderr).toBe(0);
    const side = JSON.parse(sideTagShown.stdout) as { properties: Record<string, unknown>; additionalProperties: boolean };
    // A person's file holds apiVersion, kind and spec, nothing else.
    expect(Object.keys(side.properties)).toEqual(["apiVersion", "kind", "spec"]);
    expect(side.additionalProperties).toBe(false);
  });
});

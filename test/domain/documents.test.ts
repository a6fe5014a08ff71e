// Request documents as the GitOps repo holds them: round trips, path agreement, lint line
// numbers, path-injection attempts, and the document and commit subject each shipped
// environment turns a release into.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseArtifact, type Artifact, type ArtifactInput } from "../../src/domain/artifact.js";
import { buildBodhiUpdate, type BodhiUpdateDocument } from "../../src/domain/documents/bodhiUpdate.js";
import { buildComposeRequest } from "../../src/domain/documents/composeRequest.js";
import type { DocumentMetadata } from "../../src/domain/documents/envelope.js";
import { documentPath, parseDocumentText, renderDocument, type RequestDocument } from "../../src/domain/documents/index.js";
import { buildKojiTag } from "../../src/domain/documents/kojiTag.js";
import { parseEnvironmentsYaml, type Environment } from "../../src/domain/environment.js";
import { isSafeRepoPath, repoPath, UnsafePathError } from "../../src/domain/paths.js";
import { releaseRequirement, renderRelease, SCHEDULE_SLOT_CONTEXT_KEY, type ReleaseSpec } from "../../src/domain/release.js";
import { parseReleaseCommitMessage } from "../../src/domain/commitMessages/release.js";
import { sampleArtifact } from "../support/artifacts.js";

const metadata: DocumentMetadata = { artifactId: "fedora-ci-1234", releaseId: "01JB8ZQ3V4M6X7Y8Z9A0B1C2D3", environment: "rawhide" };

const kojiTag = buildKojiTag({ tag: "f45", package: "python-requests", nvr: "python-requests-2.32.3-1.fc45" }, metadata);
const oneBuildUpdate = buildBodhiUpdate(
  {
    release: "F44",
    builds: ["nmstate-2.2.40-1.fc44"],
    type: "bugfix",
    severity: "unspecified",
    notes: "Fix a crash on bond reconfiguration (rhbz#2250001)\n\nSecond paragraph: with a colon, # a hash and 'quotes'.",
    bugs: [2250001],
    request: "testing",
    autokarma: true,
    stable_karma: 3,
    unstable_karma: -3,
    autotime: true,
    stable_days: 7,
  },
  { ...metadata, environment: "f44-updates-testing" },
);
const sideTagUpdate = buildBodhiUpdate(
  {
    release: "F44",
    builds: ["qt6-qtbase-6.9.1-1.fc44", "qt6-qtdeclarative-6.9.1-1.fc44", "1:qt6-qttools-6.9.1-2.fc44"],
    type: "enhancement",
    severity: "low",
    notes: "Qt 6.9.1",
    bugs: [],
    request: "stable",
    autokarma: false,
    stable_karma: 1,
    unstable_karma: -1,
    autotime: false,
    stable_days: 0,
    from_tag: "f44-build-side-12345",
  },
  { ...metadata, environment: "f44-updates" },
);
const composeRequest = buildComposeRequest(
  { release: "rawhide", type: "nightly", label: "20260502.n.0", reason: "policy/rawhide-nightly released artifact fedora-ci-1234", composeId: "Fedora-Rawhide-20260502.n.0" },
  { ...metadata, environment: "rawhide-compose" },
);

function lineOf(text: string, needle: string): number {
  const index = text.split("\n").findIndex((l) => l.includes(needle));
  if (index === -1) throw new Error(`${needle} not in the text`);
  return index + 1;
}

function issuesOf(text: string, at?: string) {
  const parsed = parseDocumentText(text, at);
  if (parsed.ok) throw new Error("expected the document to be refused");
  return parsed.issues;
}

describe("request document round trips", () => {
  const cases: [string, RequestDocument, string][] = [
    ["a KojiTag", kojiTag, "koji/tags/f45/python-requests.yaml"],
    ["a one-build BodhiUpdate", oneBuildUpdate, "bodhi/F44/nmstate.yaml"],
    ["a multi-build BodhiUpdate from a side tag", sideTagUpdate, "bodhi/F44/f44-build-side-12345.yaml"],
    ["a ComposeRequest", composeRequest, "composes/rawhide/20260502.n.0.yaml"],
  ];

  it.each(cases)("renders %s and parses it back equal, at the path its content names", (_name, doc, expectedPath) => {
    const text = renderDocument(doc);
    expect(text.startsWith("# Written by relengd.")).toBe(true);
    expect(documentPath(doc)).toBe(expectedPath);
    const parsed = parseDocumentText(text, expectedPath);
    expect(parsed).toEqual({ ok: true, value: doc });
    // Equal documents are equal bytes: rendering the parsed value again changes nothing.
    if (parsed.ok) expect(renderDocument(parsed.value)).toBe(text);
  });

  it("keeps Bodhi's own field names in the YAML", () => {
    const text = renderDocument(sideTagUpdate);
    for (const field of ["builds", "type", "severity", "notes", "bugs", "request", "autokarma", "stable_karma", "unstable_karma", "autotime", "stable_days", "from_tag"]) {
      expect(text).toMatch(new RegExp(`^  ${field}:`, "m"));
    }
  });

  it("accepts a hand-written document without metadata", () => {
    const text = "apiVersion: relengd/v1\nkind: KojiTag\nspec:\n  tag: f45\n  package: tzdata\n  nvr: tzdata-2026a-1.fc45\n";
    const parsed = parseDocumentText(text, "koji/tags/f45/tzdata.yaml");
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.value.metadata).toEqual({});
  });
});

describe("path agreement", () => {
  it.each([
    ["koji/tags/f45/requests.yaml", kojiTag, "koji/tags/f45/python-requests.yaml"],
    ["koji/tags/f44/python-requests.yaml", kojiTag, "koji/tags/f45/python-requests.yaml"],
    ["bodhi/F44/qt6-qtbase.yaml", sideTagUpdate, "bodhi/F44/f44-build-side-12345.yaml"],
    ["composes/rawhide/20260503.n.0.yaml", composeRequest, "composes/rawhide/20260502.n.0.yaml"],
  ] as const)("refuses a document at %s, naming where it must live", (wrongPath, doc, expected) => {
    const text = renderDocument(doc);
    const issues = issuesOf(text, wrongPath);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toContain(expected);
    expect(issues[0]?.message).toContain(wrongPath);
    // The spec as a whole disagrees with the path: the issue points into the spec block.
    expect(issues[0]?.line).toBeGreaterThanOrEqual(lineOf(text, "spec:"));
    expect(issues[0]?.line).toBeLessThanOrEqual(lineOf(text, "spec:") + 1);
  });
});

describe("errors carry the line of the bad field", () => {
  const text = renderDocument(kojiTag);

  it("points at the nvr line when the nvr is not a build of the package", () => {
    // The prefix trap: python-requests-… is not a build of package "python".
    const bad = text.replace("  package: python-requests", "  package: python");
    const issues = issuesOf(bad);
    expect(issues).toEqual([{ path: "/spec/nvr", message: expect.stringContaining("not of package python"), line: lineOf(bad, "  nvr:") }]);
  });

  it("points at the nvr line when the nvr belongs to another package", () => {
    const bad = text.replace("nvr: python-requests-2.32.3-1.fc45", "nvr: python-urllib3-2.32.3-1.fc45");
    expect(issuesOf(bad)).toEqual([{ path: "/spec/nvr", message: expect.stringContaining("not of package python-requests"), line: lineOf(bad, "  nvr:") }]);
  });

  it("points at the field with a bad value, deep in a Bodhi update", () => {
    const good = renderDocument(oneBuildUpdate);
    const bad = good.replace("stable_karma: 3", "stable_karma: 0").replace("request: testing", "request: obsolete");
    const issues = issuesOf(bad);
    expect(issues.map((i) => [i.path, i.line])).toEqual(
      expect.arrayContaining([
        ["/spec/stable_karma", lineOf(bad, "stable_karma:")],
        ["/spec/request", lineOf(bad, "request:")],
      ]),
    );
  });

  it("points at the line of a YAML syntax error", () => {
    const bad = text.replace("  tag: f45", "  tag: [f45");
    const issues = issuesOf(bad);
    expect(issues[0]?.message).toMatch(/^YAML: /);
    expect(issues[0]?.line).toBeGreaterThanOrEqual(lineOf(bad, "tag: [f45"));
  });

  it("names an unknown kind and apiVersion on their own lines", () => {
    expect(issuesOf(text.replace("kind: KojiTag", "kind: KojiUntag"))).toEqual([{ path: "/kind", message: expect.stringContaining("KojiTag"), line: lineOf(text, "kind:") }]);
    expect(issuesOf(text.replace("apiVersion: relengd/v1", "apiVersion: relengd/v2"))).toEqual([{ path: "/apiVersion", message: "must be relengd/v1", line: lineOf(text, "apiVersion:") }]);
  });

  // A forge runs lint on hand-written merge requests; a misspelt Bodhi field must be found by line.
  it("points at the line of a misspelt field, not at the mapping that holds it", () => {
    const good = renderDocument(oneBuildUpdate);
    const bad = good.replace("  stable_karma: 3", "  stable_karma: 3\n  stable_karam: 3").replace("  autotime: true", "  autotime: true\n  auto_time: true");
    const issues = issuesOf(bad);
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ["/spec/stable_karam", lineOf(bad, "stable_karam:")],
      ["/spec/auto_time", lineOf(bad, "auto_time:")],
    ]);
  });
});

describe("the schemas refuse what Koji and Bodhi would refuse", () => {
  it("refuses a KojiTag whose nvr is not a build of its package", () => {
    const doc = buildKojiTag({ tag: "f45", package: "python-requests", nvr: "python-urllib3-2.2.3-1.fc45" }, metadata);
    const issues = issuesOf(renderDocument(doc));
    expect(issues.map((i) => i.path)).toEqual(["/spec/nvr"]);
  });

  it("refuses a security BodhiUpdate with severity unspecified", () => {
    const doc = buildBodhiUpdate({ ...oneBuildUpdate.spec, type: "security", severity: "unspecified" }, oneBuildUpdate.metadata);
    const issues = issuesOf(renderDocument(doc));
    expect(issues).toEqual([{ path: "/spec/severity", message: expect.stringContaining("security update needs a severity"), line: expect.any(Number) }]);
    expect(parseDocumentText(renderDocument(buildBodhiUpdate({ ...doc.spec, severity: "high" }, doc.metadata))).ok).toBe(true);
  });

  it("takes Bodhi's real aliases (lowercase hex) and refuses what is not one", () => {
    for (const alias of ["FEDORA-2019-d64d0caab3", "FEDORA-EPEL-2023-3b5f9c33da"]) {
      expect(parseDocumentText(renderDocument(buildBodhiUpdate({ ...oneBuildUpdate.spec, alias }, oneBuildUpdate.metadata))).ok, alias).toBe(true);
    }
    for (const alias of ["fedora-2019-d64d0caab3", "FEDORA-2019/../x", "F-1"]) {
      expect(issuesOf(renderDocument(buildBodhiUpdate({ ...oneBuildUpdate.spec, alias }, oneBuildUpdate.metadata))).map((i) => i.path), alias).toEqual(["/spec/alias"]);
    }
  });

  it("refuses a multi-build BodhiUpdate without a side tag", () => {
    const { from_tag: _dropped, ...spec } = sideTagUpdate.spec;
    const doc: BodhiUpdateDocument = { ...sideTagUpdate, spec };
    expect(issuesOf(renderDocument(doc)).map((i) => i.path)).toEqual(["/spec/from_tag"]);
  });
});

describe("path-injection attempts", () => {
  const root = path.resolve("/srv/gitops-checkout");
  const hostile: [string, string][] = [
    ["parent directory", ".."],
    ["parent directory with slash", "../"],
    ["climbing path", "../../etc"],
    ["current directory", "."],
    ["hidden git directory", ".git"],
    ["absolute path", "/etc/passwd"],
    ["embedded slash", "f45/../../x"],
    ["trailing dots", "f45.."],
    ["NUL byte", "f45\0.yaml"],
    ["newline", "f45\nM 100644 inline .git/hooks/post-checkout"],
    ["carriage return", "f45\r"],
    ["backslash", "..\\..\\etc"],
    ["fullwidth solidus U+FF0F", "..／etc"],
    ["one-dot leader U+2024", "\u2024\u2024"],
    ["two-dot leader U+2025", "\u2025"],
    ["Cyrillic look-alike letters", "ѕуѕtеmd"],
    ["division slash U+2215", "a\u2215b"],
    ["leading dash (an option to git)", "-rf"],
    ["empty segment", ""],
    ["space", "f 45"],
    ["quote (fast-import C-style path)", '"f45"'],
    ["very long segment (129 chars)", "a".repeat(129)],
    ["very long segment (10,000 chars)", "b".repeat(10_000)],
  ];

  it.each(hostile)("repoPath refuses a %s", (_name, segment) => {
    expect(() => repoPath("koji", "tags", segment, "python-requests")).toThrow(UnsafePathError);
    expect(() => repoPath(segment)).toThrow(UnsafePathError);
  });

  it.each(hostile)("documentPath refuses a %s in any field that names the file", (_name, segment) => {
    const docs: RequestDocument[] = [
      buildKojiTag({ ...kojiTag.spec, tag: segment }, metadata),
      buildKojiTag({ ...kojiTag.spec, package: segment }, metadata),
      buildBodhiUpdate({ ...oneBuildUpdate.spec, release: segment }, metadata),
      // An empty from_tag means "no side tag" (the file is named by the package), not a path.
      ...(segment === "" ? [] : [buildBodhiUpdate({ ...sideTagUpdate.spec, from_tag: segment }, metadata)]),
      buildComposeRequest({ ...composeRequest.spec, release: segment }, metadata),
      buildComposeRequest({ ...composeRequest.spec, label: segment }, metadata),
    ];
    for (const doc of docs) expect(() => documentPath(doc), JSON.stringify(doc.spec)).toThrow(UnsafePathError);
  });

  it.each(hostile)("isSafeRepoPath refuses a file path with a %s", (_name, segment) => {
    expect(isSafeRepoPath(`koji/tags/${segment}/python-requests.yaml`)).toBe(false);
    expect(isSafeRepoPath(`koji/tags/f45/${segment}.yaml`)).toBe(false);
    expect(isSafeRepoPath(`${segment}/f45/python-requests.yaml`)).toBe(false);
  });

  it.each(["/etc/passwd", "/etc/passwd.yaml", "../../etc/passwd.yaml", "koji/../../x.yaml", "koji//x.yaml", "koji/tags/f45/.yaml", "koji/tags/f45/x.yml.sh", "koji/tags/f45/x", "", "./koji/x.yaml"])(
    "isSafeRepoPath refuses %j",
    (p) => {
      expect(isSafeRepoPath(p)).toBe(false);
    },
  );

  it("accepts the paths relengd itself writes, and the longest allowed segment", () => {
    for (const doc of [kojiTag, oneBuildUpdate, sideTagUpdate, composeRequest]) expect(isSafeRepoPath(documentPath(doc))).toBe(true);
    expect(repoPath("koji", "tags", "a".repeat(128))).toBe(`koji/tags/${"a".repeat(128)}`);
    expect(repoPath("koji", "tags", "libsigc++20", "gtk+")).toBe("koji/tags/libsigc++20/gtk+");
  });

  it("never yields a path that leaves the checkout, whatever the segment", () => {
    const candidates = [...hostile.map(([, s]) => s), "f45", "gtk+", "a.b", "_x", "0", "x.", "x-", "a".repeat(128)];
    for (const a of candidates) {
      for (const b of candidates) {
        let joined: string;
        try {
          joined = repoPath("koji", a, b) + ".yaml";
        } catch (err) {
          expect(err).toBeInstanceOf(UnsafePathError);
          continue;
        }
        const resolved = path.resolve(root, joined);
        expect(resolved.startsWith(root + path.sep), joined).toBe(true);
        expect(path.posix.normalize(joined)).toBe(joined);
        expect(isSafeRepoPath(joined)).toBe(true);
      }
    }
  });

  it("refuses a hand-written document whose fields would climb out of the repo, with or without a path", () => {
    const text = renderDocument(kojiTag).replace("  tag: f45", "  tag: ../../../etc");
    expect(issuesOf(text).map((i) => i.path)).toEqual(["/spec/tag"]);
    expect(issuesOf(text, "koji/tags/f45/python-requests.yaml").map((i) => i.path)).toEqual(["/spec/tag"]);
    const bodhi = renderDocument(sideTagUpdate).replace("from_tag: f44-build-side-12345", "from_tag: ..");
    expect(issuesOf(bodhi, "bodhi/F44/f44-build-side-12345.yaml").map((i) => i.path)).toEqual(["/spec/from_tag"]);
  });
});

describe("what each shipped environment turns a release into", () => {
  const file = path.resolve(__dirname, "../../policies/environments.yaml");
  const shipped = parseEnvironmentsYaml(readFileSync(file, "utf8"));
  if (!shipped.ok) throw new Error(`${file}: ${JSON.stringify(shipped.issues)}`);
  const env = (name: string): Environment => {
    const e = shipped.value.environments.find((x) => x.name === name);
    if (!e) throw new Error(`no environment ${name} in ${file}`);
    return e;
  };
  const spec = (environment: string, trigger = "user:alice"): ReleaseSpec => ({
    id: "01JB8ZQ3V4M6X7Y8Z9A0B1C2D3",
    artifactId: "ignored-the-artifact-decides",
    environment,
    trigger,
    createdAt: new Date("2026-05-02T10:00:00Z"),
  });
  const artifact = (input: Partial<ArtifactInput>): Artifact => {
    const parsed = parseArtifact(sampleArtifact(input));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    return parsed.value;
  };
  const nvrOf = (a: Artifact) => (a.items.find((i) => i.kind === "koji-build") as { nvr: string }).nvr;

  /** The rendered document parses back at its own path (what `relengd lint` checks of the pushed repo). */
  function expectLintClean(out: ReturnType<typeof renderRelease>) {
    expect(parseDocumentText(out.content, out.path)).toEqual({ ok: true, value: out.document });
  }

  it("ships the five Fedora-like environments", () => {
    expect(shipped.value.environments.map((e) => [e.name, e.kind])).toEqual([
      ["rawhide", "KojiTag"],
      ["f44-updates-candidate", "KojiTag"],
      ["f44-updates-testing", "BodhiUpdate"],
      ["f44-updates", "BodhiUpdate"],
      ["rawhide-compose", "ComposeRequest"],
    ]);
  });

  it.each([
    ["rawhide", "f45"],
    ["f44-updates-candidate", "f44-updates-candidate"],
  ])("%s: a KojiTag at koji/tags/%s/<package>.yaml, subject koji-tag: <nvr> → <tag>", (name, tag) => {
    const a = artifact({ package: "python-requests" });
    const out = renderRelease(spec(name), a, env(name));
    expect(out.path).toBe(`koji/tags/${tag}/python-requests.yaml`);
    expect(out.commitMessage.split("\n")[0]).toBe(`koji-tag: ${nvrOf(a)} → ${tag}`);
    expect(out.document).toMatchObject({ kind: "KojiTag", metadata: { artifactId: a.id, releaseId: spec(name).id, environment: name }, spec: { tag, package: "python-requests", nvr: nvrOf(a) } });
    expect(parseReleaseCommitMessage(out.commitMessage)).toEqual({ subject: `koji-tag: ${nvrOf(a)} → ${tag}`, releaseId: spec(name).id, artifactId: a.id, environment: name, trigger: "user:alice", nvrs: [nvrOf(a)] });
    expectLintClean(out);
  });

  it.each([
    ["f44-updates-testing", "testing"],
    ["f44-updates", "stable"],
  ])("%s: a one-build BodhiUpdate at bodhi/F44/<package>.yaml requesting %s", (name, request) => {
    const a = artifact({ package: "nmstate", source: { repo: "https://src.fedoraproject.org/rpms/nmstate.git", sha: "abc1234", event: "build", message: "Fix crash (rhbz#2250001, bz#2250002)" } });
    const out = renderRelease(spec(name, "policy/f44-auto"), a, env(name));
    expect(out.path).toBe("bodhi/F44/nmstate.yaml");
    expect(out.commitMessage.split("\n")[0]).toBe(`bodhi-update: ${nvrOf(a)} → F44 ${request}`);
    expect(out.document.spec).toMatchObject({ release: "F44", builds: [nvrOf(a)], request, type: "bugfix", severity: "unspecified", bugs: [2250001, 2250002], notes: "Fix crash (rhbz#2250001, bz#2250002)" });
    expect(parseReleaseCommitMessage(out.commitMessage)?.trigger).toBe("policy/f44-auto");
    expectLintClean(out);
  });

  it("f44-updates-testing: a multi-build update from a side tag lives at bodhi/F44/<side tag>.yaml", () => {
    const sideTag = "f44-build-side-98765";
    const a = artifact({
      package: "qt6-qtbase",
      items: ["qt6-qtbase", "qt6-qtdeclarative", "qt6-qtsvg"].map((p) => ({ kind: "koji-build" as const, nvr: `${p}-6.9.1-1.fc44`, sideTag })),
    });
    const out = renderRelease(spec("f44-updates-testing"), a, env("f44-updates-testing"));
    expect(out.path).toBe(`bodhi/F44/${sideTag}.yaml`);
    expect(out.document.spec).toMatchObject({ from_tag: sideTag, builds: ["qt6-qtbase-6.9.1-1.fc44", "qt6-qtdeclarative-6.9.1-1.fc44", "qt6-qtsvg-6.9.1-1.fc44"] });
    expect(out.commitMessage.split("\n")[0]).toBe(`bodhi-update: qt6-qtbase-6.9.1-1.fc44 qt6-qtdeclarative-6.9.1-1.fc44 qt6-qtsvg-6.9.1-1.fc44 → F44 testing`);
    expect(parseReleaseCommitMessage(out.commitMessage)?.nvrs).toHaveLength(3);
    expectLintClean(out);
  });

  it.each([
    ["a compose label", { kind: "compose" as const, composeId: "Fedora-Rawhide-20260502.n.0", status: "FINISHED" as const, label: "RC-1.2" }, "RC-1.2"],
    ["the date in the compose id", { kind: "compose" as const, composeId: "Fedora-Rawhide-20260502.n.1", status: "FINISHED" as const }, "20260502.n.1"],
  ])("rawhide-compose: a ComposeRequest named by %s", (_how, item, label) => {
    const a = artifact({ package: "fedora-release", release: "rawhide", items: [item] });
    const out = renderRelease(spec("rawhide-compose", "policy/rawhide-nightly"), a, env("rawhide-compose"));
    expect(out.path).toBe(`composes/rawhide/${label}.yaml`);
    expect(out.commitMessage.split("\n")[0]).toBe(`compose: rawhide nightly ${label}`);
    expect(out.document.spec).toMatchObject({ release: "rawhide", type: "nightly", label, composeId: item.composeId });
    expect(parseReleaseCommitMessage(out.commitMessage)?.nvrs).toEqual([]);
    expectLintClean(out);
  });

  it("rawhide-compose: a rawhide artifact without a compose item is named by the release's date", () => {
    const a = artifact({ package: "fedora-release", release: "rawhide", items: [] });
    const out = renderRelease(spec("rawhide-compose"), a, env("rawhide-compose"));
    expect(out.path).toBe("composes/rawhide/20260502.n.0.yaml");
    expect(out.commitMessage.split("\n")[0]).toBe("compose: rawhide nightly 20260502.n.0");
    expectLintClean(out);
  });

  it("rawhide-compose: a scheduled compose is named by its slot's day, not by the day it is rendered", () => {
    // A catch-up run (or a retry) renders days after the slot; the release was created then.
    const a = artifact({ package: "compose", release: "rawhide", items: [], context: { [SCHEDULE_SLOT_CONTEXT_KEY]: "2026-04-28T05:00:00.000Z" } });
    const out = renderRelease(spec("rawhide-compose", "policy/rawhide-nightly-compose"), a, env("rawhide-compose"));
    expect(out.path).toBe("composes/rawhide/20260428.n.0.yaml");
    expect(out.document.spec).toMatchObject({ label: "20260428.n.0" });
    expectLintClean(out);
  });

  it("refuses to render what the environment's kind cannot take", () => {
    expect(() => renderRelease(spec("rawhide"), artifact({ package: "kernel", items: [] }), env("rawhide"))).toThrow(/no koji-build of package kernel/);
    const twoTags = artifact({ package: "qt6", items: [{ kind: "koji-build", nvr: "qt6-1-1.fc44", sideTag: "a" }, { kind: "koji-build", nvr: "qt6-x-1-1.fc44", sideTag: "b" }] });
    expect(() => renderRelease(spec("f44-updates"), twoTags, env("f44-updates"))).toThrow(/one side tag/);
  });

  it("keeps a forced release's reason in its commit message", () => {
    const a = artifact({ package: "systemd" });
    const out = renderRelease({ ...spec("rawhide", "rollback"), forceReason: "boot loop\non aarch64" }, a, env("rawhide"));
    expect(parseReleaseCommitMessage(out.commitMessage)).toMatchObject({ trigger: "rollback", forceReason: "boot loop on aarch64" });
  });

  // Every document the writer pushes must pass `relengd lint`; renderRelease does not validate
  // what it builds, so inputs the artifact schema accepts can become documents the lint refuses.
  describe("renders only documents that pass their own schema", () => {
    it("a compose id without a date and longer than a label gets the release date as its label", () => {
      const composeId = `Fedora-ELN-Playground-Container-Images-${"x".repeat(60)}`;
      const a = artifact({ package: "fedora-release", release: "rawhide", items: [{ kind: "compose", composeId, status: "FINISHED" }] });
      expectLintClean(renderRelease(spec("rawhide-compose"), a, env("rawhide-compose")));
    });

    it("a commit message citing rhbz#0 does not make bug 0", () => {
      const a = artifact({ package: "nmstate", source: { repo: "https://src.fedoraproject.org/rpms/nmstate.git", sha: "abc1234", event: "build", message: "Rebuild (rhbz#0 placeholder)" } });
      expectLintClean(renderRelease(spec("f44-updates-testing"), a, env("f44-updates-testing")));
    });

    it("refuses a side-tag update of more than 200 builds instead of writing a document Bodhi's schema refuses", () => {
      const sideTag = "f44-build-side-11111";
      const a = artifact({ package: "kde-x", items: Array.from({ length: 201 }, (_, i) => ({ kind: "koji-build" as const, nvr: `kde-x${i}-6.0-1.fc44`, sideTag })) });
      expect(releaseRequirement(a, env("f44-updates-testing"))).toMatchObject({ ok: false, reason: expect.stringContaining("at most 200") });
      expect(() => renderRelease(spec("f44-updates-testing"), a, env("f44-updates-testing"))).toThrow("at most 200");
    });

    it("an environments.yaml declaring security updates without a severity is refused", () => {
      const text = readFileSync(file, "utf8").replace("      type: bugfix\n      severity: unspecified\n", "      type: security\n");
      expect(text).toContain("type: security");
      expect(parseEnvironmentsYaml(text).ok).toBe(false);
    });
  });
});

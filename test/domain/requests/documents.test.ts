// Proposed documents (BranchRequest, RepoRequest, SideTag): every real fedora-scm-requests ticket
// as a document, round trips, path agreement, file:line messages, and refused inputs.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAnyDocumentText } from "../../../src/domain/documentFile.js";
import { buildBranchRequest, type BranchRequestDocument } from "../../../src/domain/requests/branchRequest.js";
import {
  isProposedDocumentPath,
  parseProposedText,
  proposedDocumentPath,
  proposedDocumentProblems,
  proposedJsonSchemas,
  renderProposedDocument,
  requestKinds,
  type ProposedDocument,
} from "../../../src/domain/requests/index.js";
import { buildRepoRequest, monitorChoices, type RepoRequestDocument } from "../../../src/domain/requests/repoRequest.js";
import { buildSideTag, sideTagPath, sideTagPlaceOf, type SideTagDocument } from "../../../src/domain/requests/sideTag.js";
import { UnsafePathError } from "../../../src/domain/paths.js";
import { stringify } from "yaml";
import { requestFact, scmTickets } from "../../support/requestFixtures.js";

const branchRequest: BranchRequestDocument = buildBranchRequest({
  namespace: "rpms",
  repo: "nethack",
  branch: "epel10",
  create_git_branch: true,
  sls: { security_fixes: "2030-12-01", bug_fixes: "2030-12-01" },
});
const repoRequest: RepoRequestDocument = buildRepoRequest({
  namespace: "rpms",
  repo: "python-sphinx-autodoc-typehints",
  branch: "rawhide",
  bug_id: 2361105,
  summary: "Type hints support for the Sphinx autodoc extension",
  description: "Multi-line text,\nwith: a colon, # a hash and 'quotes'.",
  upstreamurl: "https://github.com/tox-dev/sphinx-autodoc-typehints",
  monitor: "monitoring-with-scratch",
  exception: false,
  initial_commit: true,
});
const sideTag: SideTagDocument = buildSideTag({ base_tag: "f43-build", debuginfo: true, suffix: "kde", packages: ["qt6-qtbase", "qt6-qtdeclarative", "qt6-qttools"] });

/** A proposed document as a person writes it: apiVersion, kind, spec. */
const yamlOf = (kind: string, spec: Record<string, unknown>) => stringify({ apiVersion: "relengd/v1", kind, spec });

function issuesOf(text: string, at?: string) {
  const parsed = parseProposedText(text, at);
  if (parsed.ok) throw new Error("expected the document to be refused");
  return parsed.issues;
}

describe("proposed document round trips", () => {
  const cases: [string, ProposedDocument, string][] = [
    ["a BranchRequest", branchRequest, "distgit/branches/rpms/nethack/epel10.yaml"],
    ["a RepoRequest", repoRequest, "distgit/repos/rpms/python-sphinx-autodoc-typehints.yaml"],
    ["a SideTag", sideTag, "koji/sidetags/alice/kde-6.9.yaml"],
  ];

  it.each(cases)("renders %s without relengd's header and parses it back equal, at its path", (_name, doc, at) => {
    const text = renderProposedDocument(doc);
    expect(text.startsWith("apiVersion: relengd/v1\n")).toBe(true);
    expect(text).not.toContain("Written by relengd");
    expect(text).not.toContain("metadata");
    const place = doc.kind === "SideTag" ? sideTagPlaceOf(at) : undefined;
    expect(proposedDocumentPath(doc, place)).toBe(at);
    expect(isProposedDocumentPath(at)).toBe(true);
    const parsed = parseProposedText(text, at);
    expect(parsed).toEqual({ ok: true, value: doc });
    if (parsed.ok) expect(renderProposedDocument(parsed.value)).toBe(text);
    expect(parseAnyDocumentText(text, at)).toEqual({ ok: true, value: doc });
    expect(proposedDocumentProblems(doc)).toBeUndefined();
  });

  it.each([["a bug number", 1441813], ["a digit string", "1441813"], ["no bug", ""]] as const)("keeps bug_id given as %s through a round trip", (_what, bug_id) => {
    const doc = buildRepoRequest({ ...repoRequest.spec, bug_id, exception: bug_id === "" });
    const text = renderProposedDocument(doc);
    expect(parseProposedText(text, "distgit/repos/rpms/python-sphinx-autodoc-typehints.yaml")).toEqual({ ok: true, value: doc });
  });

  it("fills the defaults a person may leave out", () => {
    const branch = parseProposedText(yamlOf("BranchRequest", { namespace: "rpms", repo: "nethack", branch: "f44" }));
    expect(branch).toMatchObject({ ok: true, value: { spec: { create_git_branch: true } } });
    const side = parseProposedText(yamlOf("SideTag", { base_tag: "f44-build", packages: ["bash"] }));
    expect(side).toMatchObject({ ok: true, value: { spec: { debuginfo: false } } });
    const repo = parseProposedText(yamlOf("RepoRequest", { namespace: "rpms", repo: "nethack", bug_id: "1441813", summary: "s", description: "", upstreamurl: "", monitor: "monitoring", exception: false }));
    expect(repo).toMatchObject({ ok: true, value: { spec: { branch: "rawhide", bug_id: "1441813" } } });
  });
});

describe("real fedora-scm-requests tickets", () => {
  const tickets = scmTickets();

  it("has tickets of both kinds", () => {
    expect(tickets.filter((t) => t.action === "new_branch").length).toBeGreaterThan(0);
    expect(tickets.filter((t) => t.action === "new_repo").length).toBeGreaterThan(0);
  });

  it.each(tickets.map((t) => [t.file, t] as const))("%s (minus action) parses as its kind, at the path it names, and round-trips", (_file, ticket) => {
    const kind = ticket.action === "new_branch" ? "BranchRequest" : "RepoRequest";
    const text = yamlOf(kind, ticket.spec);
    const parsed = parseProposedText(text);
    expect(parsed, JSON.stringify(parsed)).toMatchObject({ ok: true, value: { kind, spec: ticket.spec } });
    if (!parsed.ok) return;
    const at = proposedDocumentPath(parsed.value);
    expect(at).toBe(kind === "BranchRequest" ? `distgit/branches/${ticket.spec.namespace}/${ticket.spec.repo}/${ticket.spec.branch}.yaml` : `distgit/repos/${ticket.spec.namespace}/${ticket.spec.repo}.yaml`);
    expect(parseProposedText(renderProposedDocument(parsed.value), at)).toEqual(parsed);
    // The JSON body as fedpkg files it is YAML too: a person may paste it as the spec.
    expect(parseProposedText(JSON.stringify({ apiVersion: "relengd/v1", kind, spec: ticket.spec }), at)).toEqual(parsed);
  });

  it("accepts every monitor value the request processor was ever deployed with", () => {
    const deployed = ["toddlers", "poddlers"].flatMap((f) => (requestFact(`facts/scm-request-processor/${f}.json`).scm_request_processor as { monitor_choices: string[] }).monitor_choices);
    expect([...new Set(deployed)].sort()).toEqual([...monitorChoices].sort());
  });

  it("accepts a side tag on every base tag Fedora's hub policy allows", () => {
    const allowed = (requestFact("facts/koji-sidetag.json").fedora_deployment as { sidetag_base_tags_allowed: string[] }).sidetag_base_tags_allowed;
    expect(allowed.length).toBeGreaterThan(0);
    for (const base_tag of allowed) expect(parseProposedText(yamlOf("SideTag", { base_tag, packages: ["bash"] }), "koji/sidetags/alice/x.yaml").ok, base_tag).toBe(true);
  });
});

describe("path agreement", () => {
  it.each([
    ["distgit/branches/rpms/nethack/f44.yaml", "distgit/branches/rpms/nethack/epel10.yaml"],
    ["distgit/branches/rpms/sudoku/epel10.yaml", "distgit/branches/rpms/nethack/epel10.yaml"],
    ["distgit/branches/modules/nethack/epel10.yaml", "distgit/branches/rpms/nethack/epel10.yaml"],
    ["distgit/repos/rpms/nethack.yaml", "distgit/branches/rpms/nethack/epel10.yaml"],
  ])("refuses a BranchRequest at %s, naming %s", (at, expected) => {
    const text = renderProposedDocument(branchRequest);
    expect(issuesOf(text, at)).toEqual([{ path: "/spec", message: `a BranchRequest with this spec must live at ${expected}, not ${at}`, line: 3 }]);
  });

  it.each(["koji/sidetags/Alice/kde.yaml", "koji/sidetags/alice/kde.yml", "koji/sidetags/kde.yaml", "koji/sidetags/alice/x/kde.yaml", "koji/tags/alice/kde.yaml", "koji/sidetags/../kde.yaml", "koji/sidetags/alice/..kde.yaml"])(
    "refuses a SideTag at %s",
    (at) => {
      expect(issuesOf(renderProposedDocument(sideTag), at)).toEqual([{ path: "/", message: expect.stringContaining(`a SideTag must live at koji/sidetags/<owner>/<label>.yaml`) as string, line: 1 }]);
    },
  );

  it("names a SideTag's owner and label from its path, and refuses unsafe ones", () => {
    expect(sideTagPlaceOf("koji/sidetags/alice/kde-6.9.yaml")).toEqual({ owner: "alice", label: "kde-6.9" });
    expect(sideTagPlaceOf("koji/sidetags/al ice/kde.yaml")).toBeUndefined();
    expect(() => sideTagPath({ owner: "../root", label: "x" })).toThrow(UnsafePathError);
    expect(() => sideTagPath({ owner: "alice", label: "../x" })).toThrow(UnsafePathError);
    expect(() => proposedDocumentPath(sideTag)).toThrow(UnsafePathError);
  });
});

describe("refusals, each on its line", () => {
  it("says file:line for each bad field, an unknown field and metadata on their own lines", () => {
    const text = `apiVersion: relengd/v1
kind: RepoRequest
metadata: {}
spec:
  namespace: rpms
  repo: "../etc"
  bug_id: 0
  summary: "two\\nlines"
  description: ""
  upstreamurl: "javascript:alert(1)"
  monitor: sometimes
  exception: "no"
  colour: blue
`;
    const issues = issuesOf(text).sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    expect(issues).toEqual([
      { path: "/metadata", message: "is not a known field", line: 3 },
      { path: "/spec/repo", message: "must be a repository name: letters, digits and -_.+, not starting with - . or +", line: 6 },
      { path: "/spec/bug_id", message: "must be at least 1", line: 7 },
      { path: "/spec/summary", message: "must be one line of text (no line breaks or control characters)", line: 8 },
      { path: "/spec/upstreamurl", message: "must be an http(s) or ftp URL, or empty", line: 10 },
      { path: "/spec/monitor", message: expect.stringMatching(/^must be one of "no-monitoring", "monitoring", /) as string, line: 11 },
      { path: "/spec/exception", message: "must be true or false, not a string", line: 12 },
      { path: "/spec/colour", message: "is not a known field", line: 13 },
    ]);
  });

  it.each([
    ["a path traversal", "../../etc"],
    ["an absolute path", "/etc/passwd"],
    ["a backslash", "foo\\bar"],
    ["a leading dot", ".hidden"],
    ["a leading dash", "-rf"],
    ["two dots inside", "foo..bar"],
    ["a space", "foo bar"],
    ["a look-alike solidus", "foo\u2215bar"],
    ["an empty name", ""],
    ["a name too long for a path segment", "a".repeat(129)],
  ])("refuses a repo name with %s", (_what, repo) => {
    const issues = issuesOf(yamlOf("BranchRequest", { namespace: "rpms", repo, branch: "f44" }));
    expect(issues).toEqual([{ path: "/spec/repo", message: expect.stringMatching(/^must be (a repository name|at most 128 characters long)/) as string, line: 5 }]);
  });

  it("accepts every name the request processor's pattern allows", () => {
    for (const repo of ["nethack", "python-sphinx_autodoc.typehints", "gtk+", "_private", "0ad", "R-Rcpp"]) {
      expect(parseProposedText(yamlOf("BranchRequest", { namespace: "rpms", repo, branch: "f44" })).ok, repo).toBe(true);
    }
  });

  it("refuses a lone surrogate in any text field, naming the rule", () => {
    const lone = JSON.stringify({ apiVersion: "relengd/v1", kind: "RepoRequest", spec: { ...repoRequest.spec, summary: "broken \ud83d half" } });
    expect(issuesOf(lone)).toEqual([{ path: "/spec/summary", message: "must be well-formed Unicode text (it holds a lone UTF-16 surrogate)", line: 1 }]);
  });

  it("refuses unknown namespaces, branches that are not segments, bad service levels and dates", () => {
    const bad = issuesOf(yamlOf("BranchRequest", { namespace: "secrets", repo: "nethack", branch: "../f44", create_git_branch: "yes", sls: { "Security Fixes": "soon" } }));
    expect([...new Set(bad.map((i) => i.path))].sort()).toEqual(["/spec/branch", "/spec/create_git_branch", "/spec/namespace", "/spec/sls/Security Fixes"]);
    const date = issuesOf(yamlOf("BranchRequest", { namespace: "rpms", repo: "nethack", branch: "9", sls: { security_fixes: "1st of May" } }));
    expect(date).toEqual([{ path: "/spec/sls/security_fixes", message: "must be a date like 2030-12-01", line: 8 }]);
  });

  it("refuses a side tag with no packages, a package twice, too many packages or a bad suffix", () => {
    expect(issuesOf(yamlOf("SideTag", { base_tag: "f44-build", packages: [] }))).toEqual([{ path: "/spec/packages", message: "must have at least one item", line: 5 }]);
    expect(issuesOf(yamlOf("SideTag", { base_tag: "f44-build", packages: ["bash", "zsh", "bash"] }))).toEqual([{ path: "/spec/packages/2", message: "names bash a second time", line: 8 }]);
    const many = Array.from({ length: 501 }, (_, i) => `pkg${i}`);
    expect(issuesOf(yamlOf("SideTag", { base_tag: "f44-build", packages: many }))[0]).toMatchObject({ path: "/spec/packages", message: "must have at most 500 items" });
    expect(issuesOf(yamlOf("SideTag", { base_tag: "f44-build", suffix: "a b", packages: ["bash"] }))).toMatchObject([{ path: "/spec/suffix" }]);
    expect(issuesOf(yamlOf("SideTag", { base_tag: "f44-build", name: "f44-build-side-1", packages: ["bash"] }))).toMatchObject([{ path: "/spec/name", message: "is not a known field" }]);
  });

  it("refuses a release document's kind and a missing kind, naming the request kinds", () => {
    expect(issuesOf("apiVersion: relengd/v1\nkind: KojiTag\nspec: {}\n")).toEqual([{ path: "/kind", message: `must be one of ${requestKinds.join(", ")}`, line: 2 }]);
    expect(issuesOf("apiVersion: relengd/v2\nkind: SideTag\n")).toEqual([{ path: "/apiVersion", message: "must be relengd/v1", line: 1 }]);
    expect(issuesOf("- a list\n")).toEqual([{ path: "/", message: "a document is a YAML mapping", line: 1 }]);
  });

  it("survives deep nesting without overflowing the stack", () => {
    const deep = "apiVersion: relengd/v1\nkind: SideTag\nspec:\n  base_tag: f44-build\n  packages: " + "[".repeat(5000) + "]".repeat(5000) + "\n";
    const parsed = parseProposedText(deep);
    expect(parsed.ok).toBe(false);
  });
});

describe("any document file", () => {
  it("dispatches on kind to release documents and proposed documents", () => {
    const kojiTag = "apiVersion: relengd/v1\nkind: KojiTag\nspec:\n  tag: f45\n  package: tzdata\n  nvr: tzdata-2026a-1.fc45\n";
    expect(parseAnyDocumentText(kojiTag, "koji/tags/f45/tzdata.yaml")).toMatchObject({ ok: true, value: { kind: "KojiTag" } });
    expect(parseAnyDocumentText(kojiTag, "distgit/repos/rpms/tzdata.yaml")).toMatchObject({ ok: false, issues: [{ path: "/spec", message: expect.stringContaining("must live at koji/tags/f45/tzdata.yaml") as string }] });
    expect(parseAnyDocumentText(renderProposedDocument(sideTag), "koji/tags/f45/tzdata.yaml")).toMatchObject({ ok: false });
    expect(parseAnyDocumentText("apiVersion: relengd/v1\nkind: MassRename\n", "x.yaml")).toEqual({
      ok: false,
      issues: [{ path: "/kind", message: "must be one of KojiTag, BodhiUpdate, ComposeRequest, BranchRequest, RepoRequest, SideTag, MassBranch, MassRebuild, SigRequest, EventRequest, CalendarEntry", line: 2 }],
    });
  });
});

describe("JSON Schemas", () => {
  it("gives one 2020-12 schema per kind, with the fields a person writes and no metadata", () => {
    const schemas = proposedJsonSchemas();
    expect(Object.keys(schemas)).toEqual([...requestKinds]);
    for (const kind of requestKinds) {
      const schema = schemas[kind] as { $schema: string; properties: Record<string, unknown>; additionalProperties: boolean; required: string[] };
      expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
      expect(Object.keys(schema.properties)).toEqual(["apiVersion", "kind", "spec"]);
      expect(schema.additionalProperties).toBe(false);
    }
    const repoSpec = (schemas.RepoRequest.properties as { spec: { required: string[] } }).spec;
    expect(repoSpec.required).not.toContain("branch");
    expect(repoSpec.required).toContain("bug_id");
  });
});

describe("the README's examples", () => {
  it("are valid requests at the paths they name", () => {
    const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8");
    const examples = [...readme.matchAll(/```yaml\n# ((?:distgit|koji\/sidetags)\/\S+\.yaml)\n([\s\S]*?)```/g)];
    expect(examples.map((m) => m[1])).toHaveLength(3);
    for (const [, at, text] of examples) expect(parseProposedText(text ?? "", at), at).toMatchObject({ ok: true });
  });
});

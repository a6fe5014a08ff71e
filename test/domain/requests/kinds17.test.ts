// The request kinds of issue 17 (MassBranch, MassRebuild, SigRequest, EventRequest, CalendarEntry):
// round trips, path agreement, file:line problems, refused inputs, JSON Schemas, operations, and
// every real massrebuildsinfo.py entry of the fixtures as a MassRebuild (or its misfit named).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { buildEventRequest } from "../../../src/domain/requests/eventRequest.js";
import {
  isProposedDocumentPath,
  parseProposedText,
  proposedDocumentPath,
  proposedDocumentProblems,
  proposedJsonSchemas,
  renderProposedDocument,
  requestKinds,
  type ProposedDocument,
  type ProposedPlace,
} from "../../../src/domain/requests/index.js";
import { buildMassBranch } from "../../../src/domain/requests/massBranch.js";
import { buildMassRebuild, massRebuildSpecSchema } from "../../../src/domain/requests/massRebuild.js";
import { operationsOf, operationsOfFiles } from "../../../src/domain/requests/operations.js";
import { UnsafePathError } from "../../../src/domain/paths.js";
import { event, massBranch, massRebuild, meeting, sig } from "../../support/requestKinds17.js";

// The copy of ../shared/fixtures/requests in test/fixtures (see its README).
const MASSREBUILD = path.resolve(__dirname, "../../fixtures/requests/facts/massrebuild");
const massRebuildDir = process.env.RELENGD_FIXTURES ? path.join(process.env.RELENGD_FIXTURES, "requests/facts/massrebuild") : MASSREBUILD;

const yamlOf = (kind: string, spec: unknown) => stringify({ apiVersion: "relengd/v1", kind, spec });

function issuesOf(text: string, at?: string) {
  const parsed = parseProposedText(text, at);
  if (parsed.ok) throw new Error(`expected the document to be refused at ${at ?? "no path"}`);
  return parsed.issues;
}

describe("the kinds of issue 17", () => {
  const cases: [ProposedDocument, string, ProposedPlace?][] = [
    [massBranch, "releases/f44/branching.yaml"],
    [massRebuild, "rebuilds/f39.yaml"],
    [sig, "sigs/python-sig.yaml"],
    [event, "events/flock-2026.yaml"],
    [meeting, "calendar/council/2026-12-09-fesco-meeting.yaml", { calendar: "council", slug: "fesco-meeting" }],
  ];

  it.each(cases)("round-trips a %#: render, parse at its path, same document; the path is a proposed document's", (doc, at, place) => {
    expect(proposedDocumentPath(doc, place)).toBe(at);
    expect(isProposedDocumentPath(at)).toBe(true);
    const text = renderProposedDocument(doc);
    const parsed = parseProposedText(text, at);
    expect(parsed).toMatchObject({ ok: true, value: doc });
    expect(proposedDocumentProblems(doc)).toBeUndefined();
    // Rendering is a pure function of the document.
    expect(renderProposedDocument(doc)).toBe(text);
  });

  it("exports a JSON Schema for every kind, the new ones included", () => {
    const schemas = proposedJsonSchemas();
    expect(Object.keys(schemas)).toEqual([...requestKinds]);
    for (const kind of ["MassBranch", "MassRebuild", "SigRequest", "EventRequest", "CalendarEntry"] as const) {
      expect(schemas[kind]).toMatchObject({ $id: `https://relengd.dev/schemas/${kind}-v1.json`, type: "object", additionalProperties: false, required: ["apiVersion", "kind", "spec"] });
    }
    expect(JSON.stringify(schemas.MassRebuild)).toContain("pkg_skip_list");
    expect(JSON.stringify(schemas.EventRequest)).toContain('"large"');
  });

  it("takes a release number as YAML reads it (44) or as a string, and the path must name it", () => {
    const text = yamlOf("MassBranch", { ...massBranch.spec, version: "44" });
    expect(parseProposedText(text, "releases/f44/branching.yaml").ok).toBe(true);
    const wrong = issuesOf(renderProposedDocument(massBranch), "releases/f43/branching.yaml");
    expect(wrong).toEqual([{ path: "/spec", message: "a MassBranch with this spec must live at releases/f44/branching.yaml, not releases/f43/branching.yaml", line: 3 }]);
  });

  it("names a MassBranch whose branch or dist tag is not its version's, on their lines", () => {
    const text = yamlOf("MassBranch", { ...massBranch.spec, branch: "f45", dist_tag: "f43" });
    expect(issuesOf(text, "releases/f44/branching.yaml")).toEqual([
      { path: "/spec/branch", message: "must be f44, the branch of version 44", line: 8 },
      { path: "/spec/dist_tag", message: "must be f44, the dist tag of version 44", line: 9 },
    ]);
  });

  it("checks a MassRebuild's path against its desttag, and its version against the release", () => {
    expect(issuesOf(renderProposedDocument(massRebuild), "rebuilds/f40.yaml")).toEqual([
      { path: "/spec", message: "a MassRebuild with this spec must live at rebuilds/f39.yaml, not rebuilds/f40.yaml", line: 3 },
    ]);
    expect(issuesOf(yamlOf("MassRebuild", { ...massRebuild.spec, rawhide_version: "40" }), "rebuilds/f39.yaml")).toMatchObject([{ path: "/spec/rawhide_version", message: "must be 39, the release of desttag f39" }]);
    expect(issuesOf(yamlOf("MassRebuild", { ...massRebuild.spec, version: "38" }), "rebuilds/f39.yaml")).toMatchObject([{ path: "/spec/version", message: "must be 39 (or rawhide), the release of desttag f39" }]);
    // A desttag that names no Fedora release has no path: a problem, never a crash.
    expect(issuesOf(yamlOf("MassRebuild", { ...massRebuild.spec, desttag: "epel9" }), "rebuilds/f39.yaml")).toMatchObject([{ path: "/spec", message: expect.stringContaining("names no Fedora release") as string }]);
    expect(() => proposedDocumentPath(buildMassRebuild({ ...massRebuild.spec, desttag: "epel9" }))).toThrow(UnsafePathError);
  });

  it("checks a SIG's and an event's file name against the group and the event's name", () => {
    expect(issuesOf(renderProposedDocument(sig), "sigs/go-sig.yaml")).toMatchObject([{ path: "/spec", message: "a SigRequest with this spec must live at sigs/python-sig.yaml, not sigs/go-sig.yaml" }]);
    expect(issuesOf(renderProposedDocument(event), "events/flock.yaml")).toMatchObject([{ path: "/spec", message: "a EventRequest with this spec must live at events/flock-2026.yaml, not events/flock.yaml" }]);
  });

  it("checks a calendar entry's date against its path, and the path's shape; the calendar and slug are the path's", () => {
    const text = renderProposedDocument(meeting);
    expect(parseProposedText(text, "calendar/Fedora-release/2026-12-09-anything.yaml").ok).toBe(true);
    expect(issuesOf(text, "calendar/council/2026-12-10-fesco-meeting.yaml")).toEqual([
      { path: "/spec/meeting_date", message: "the path names 2026-12-10, the meeting is on 2026-12-09: a CalendarEntry lives at calendar/<calendar>/<meeting_date>-<slug>.yaml", line: 5 },
    ]);
    for (const bad of ["calendar/council/fesco.yaml", "calendar/../council/2026-12-09-x.yaml", "calendar/council/sub/2026-12-09-x.yaml", "calendar/.hidden/2026-12-09-x.yaml", "calendar/council/2026-12-09-...yaml"]) {
      expect(issuesOf(text, bad), bad).toMatchObject([{ path: "/", message: expect.stringContaining("must live at calendar/<calendar>/<YYYY-MM-DD>-<slug>.yaml") as string }]);
    }
    expect(() => proposedDocumentPath(meeting)).toThrow(UnsafePathError);
    expect(() => proposedDocumentPath(meeting, { calendar: "../etc", slug: "x" })).toThrow(UnsafePathError);
  });

  it("refuses bad dates, with the field and its line", () => {
    const badEvent = yamlOf("EventRequest", { ...event.spec, dates: { start: "2026-02-30", end: "2026-06-01" } });
    expect(issuesOf(badEvent)).toMatchObject([{ path: "/spec/dates/start", message: "must be a day that exists" }]);
    expect(issuesOf(yamlOf("EventRequest", { ...event.spec, dates: { start: "2026-06-05", end: "2026-06-03" } }))).toMatchObject([{ path: "/spec/dates/end", message: "must not be before start (2026-06-05)" }]);
    expect(issuesOf(yamlOf("EventRequest", { ...event.spec, dates: { start: "5 June", end: "2026-06-03" } }))).toMatchObject([{ path: "/spec/dates/start", message: "must be a date like 2026-08-05" }]);
    expect(issuesOf(yamlOf("MassRebuild", { ...massRebuild.spec, epoch: "2023-02-30 10:30:00.000000" }))).toMatchObject([{ path: "/spec/epoch", message: "must be on a day that exists", line: 4 }]);
    expect(issuesOf(yamlOf("MassRebuild", { ...massRebuild.spec, epoch: "2023-07-19T10:30:00Z" }))).toMatchObject([{ path: "/spec/epoch", message: "must be a time like 2023-07-19 10:30:00.000000" }]);
    expect(issuesOf(yamlOf("CalendarEntry", { ...meeting.spec, meeting_date: "2026-13-01" }))).toMatchObject([{ path: "/spec/meeting_date", message: "must be a day that exists" }]);
  });

  it("refuses lone surrogates, unknown fields, and names of other kinds' fields", () => {
    expect(issuesOf(yamlOf("SigRequest", { ...sig.spec, description: "Python \ud800 SIG" }))).toMatchObject([{ path: "/spec/description", message: expect.stringContaining("lone UTF-16 surrogate") as string }]);
    expect(issuesOf(yamlOf("EventRequest", { ...event.spec, name: "Flock \udfff" }))).toMatchObject([{ path: "/spec/name", message: expect.stringContaining("surrogate") as string }]);
    expect(issuesOf(yamlOf("MassBranch", { ...massBranch.spec, namespace: "rpms" }))).toMatchObject([{ path: "/spec/namespace" }]);
    expect(issuesOf(stringify({ apiVersion: "relengd/v1", kind: "SigRequest", metadata: { name: "x" }, spec: sig.spec }))).toMatchObject([{ path: "/metadata" }]);
  });

  it("refuses path traversal in the names that become paths", () => {
    expect(issuesOf(yamlOf("SigRequest", { ...sig.spec, group: "../etc" }))).toMatchObject([{ path: "/spec/group" }]);
    expect(issuesOf(yamlOf("SigRequest", { ...sig.spec, group: "a..b" }))).toMatchObject([{ path: "/spec/group", message: 'must be a group name without ".."' }]);
    expect(issuesOf(yamlOf("MassBranch", { ...massBranch.spec, version: "44/../../x" }))).toMatchObject([{ path: "/spec/version" }]);
    expect(issuesOf(yamlOf("MassRebuild", { ...massRebuild.spec, desttag: "../f39" }))).toMatchObject([{ path: "/spec/desttag" }]);
    // An event's file name is made of the name's letters and digits only.
    expect(proposedDocumentPath(buildEventRequest({ ...event.spec, name: "../../etc/passwd" }))).toBe("events/etc-passwd.yaml");
  });

  it("refuses deep nesting as a problem on its line, never a crash", () => {
    const deep = "[".repeat(5000) + "]".repeat(5000);
    const text = `apiVersion: relengd/v1\nkind: SigRequest\nspec:\n  group: python-sig\n  description: x\n  members: ${deep}\n`;
    expect(issuesOf(text, "sigs/python-sig.yaml")).toMatchObject([{ path: "/", line: 6 }]);
    expect(issuesOf(yamlOf("EventRequest", { ...event.spec, budget: { amount: { a: { b: { c: 1 } } } } }))).toMatchObject([{ path: "/spec/budget/amount" }]);
  });

  it("refuses huge lists and values, and duplicates", () => {
    const many = Array.from({ length: 10_001 }, (_, i) => `pkg${i}`);
    expect(issuesOf(yamlOf("MassRebuild", { ...massRebuild.spec, pkg_skip_list: many }))).toMatchObject([{ path: "/spec/pkg_skip_list", message: expect.stringContaining("10000") as string }]);
    expect(issuesOf(yamlOf("MassRebuild", { ...massRebuild.spec, pkg_skip_list: ["kernel", "shim", "kernel"] }))).toMatchObject([{ path: "/spec/pkg_skip_list/2", message: "names package kernel a second time" }]);
    expect(issuesOf(yamlOf("SigRequest", { ...sig.spec, members: Array.from({ length: 1001 }, (_, i) => `user${i}`) }))).toMatchObject([{ path: "/spec/members" }]);
    expect(issuesOf(yamlOf("EventRequest", { ...event.spec, budget: { amount: 1e12 } }))).toMatchObject([{ path: "/spec/budget/amount" }]);
    expect(issuesOf(yamlOf("EventRequest", { ...event.spec, budget: { amount: -1 } }))).toMatchObject([{ path: "/spec/budget/amount" }]);
    expect(issuesOf(yamlOf("EventRequest", { ...event.spec, name: "x".repeat(201) }))).toMatchObject([{ path: "/spec/name" }]);
    expect(issuesOf(yamlOf("EventRequest", { ...event.spec, size: "huge" }))).toMatchObject([{ path: "/spec/size" }]);
  });
});

interface MassRebuildEntry {
  release: string;
  _source: { note?: string };
  [key: string]: unknown;
}

describe("every real massrebuildsinfo.py entry of the fixtures", () => {
  const files = readdirSync(massRebuildDir).filter((f) => f.endsWith(".json")).sort();

  it("finds the entries", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)("%s is a MassRebuild at rebuilds/<release>.yaml, or a partial entry whose missing keys are named", (file) => {
    const { release, _source, ...spec } = JSON.parse(readFileSync(path.join(massRebuildDir, file), "utf8")) as MassRebuildEntry;
    const at = `rebuilds/${release}.yaml`;
    expect(isProposedDocumentPath(at)).toBe(true);
    const parsed = parseProposedText(yamlOf("MassRebuild", spec), at);
    if (parsed.ok) {
      expect(parsed.value.kind).toBe("MassRebuild");
      expect(operationsOf(parsed.value).map((o) => o.kind)).toEqual(["add-tag", "add-target", "mass-rebuild", "tag-builds"]);
      return;
    }
    // The only misfit of a real entry: the source's own partial entries (f27: only epoch, f41: only
    // tracking_bug), each missing key named at /spec/<key>, and nothing else wrong.
    expect(_source.note ?? "", JSON.stringify(parsed.issues)).toMatch(/partial entry/);
    const required = Object.entries(massRebuildSpecSchema.shape)
      .filter(([, s]) => !s.safeParse(undefined).success)
      .map(([k]) => k);
    const missing = required.filter((k) => !(k in spec));
    expect(missing.length).toBeGreaterThan(0);
    expect(parsed.issues.map((i) => i.path).sort()).toEqual(missing.map((k) => `/spec/${k}`).sort());
    for (const issue of parsed.issues) expect(issue.message).toMatch(/is required/);
  });
});

describe("operations of the new kinds", () => {
  it("branches a release: the Koji tags and targets make-koji-release-tags makes, then the Bodhi release", () => {
    const ops = operationsOf(massBranch);
    expect(ops.filter((o) => o.kind === "add-tag").map((o) => o.text)).toEqual([
      "koji add-tag --parent f44 f44-updates",
      "koji add-tag --parent f44-updates f44-override",
      "koji add-tag --parent f44-updates f44-updates-candidate",
      "koji add-tag --parent f44-updates f44-updates-testing",
      "koji add-tag --parent f44-updates-testing f44-updates-testing-pending",
      "koji add-tag --parent f44-updates f44-updates-pending",
      "koji add-tag --parent f44-updates f44-signing-pending",
      "koji add-tag --parent f44-override f44-build",
    ]);
    expect(ops.filter((o) => o.kind === "add-target").map((o) => o.text)).toEqual(["koji add-target f44 f44-build f44-updates-candidate", "koji add-target f44-candidate f44-build f44-updates-candidate"]);
    expect(ops.at(-1)).toEqual({
      kind: "create-bodhi-release",
      text:
        "bodhi releases create --name F44 --long-name 'Fedora 44' --id-prefix FEDORA --version 44 --branch f44 --dist-tag f44 --stable-tag f44-updates " +
        "--testing-tag f44-updates-testing --candidate-tag f44-updates-candidate --pending-stable-tag f44-updates-pending " +
        "--pending-testing-tag f44-updates-testing-pending --pending-signing-tag f44-signing-pending --override-tag f44-override --state pending --not-create-automatic-updates",
    });
    // A quote in a name stays one shell word.
    const quoted = operationsOf(buildMassBranch({ ...massBranch.spec, long_name: "Fedora's 44" })).at(-1)?.text;
    expect(quoted).toContain("--long-name 'Fedora'\\''s 44'");
  });

  it("rebuilds, gives a SIG its group and ACLs, plans an event, adds a meeting", () => {
    expect(operationsOf(massRebuild).map((o) => o.text)).toEqual([
      "koji add-tag --parent f39 f39-rebuild",
      "koji add-target f39-rebuild f39-build f39-rebuild",
      "mass-rebuild.py: rebuild every package of f39 not built since 2023-07-19 10:30:00.000000 on f39-candidate, rawhide, f39 (tracking bug 2168842, https://fedoraproject.org/wiki/Fedora_39_Mass_Rebuild, skipping 2 packages: kernel shim)",
      "koji tag-build f39 <the builds of f39-rebuild>",
    ]);
    expect(operationsOf(sig)).toEqual([
      { kind: "create-group", text: "create FAS group python-sig (Python packaging in Fedora)" },
      { kind: "add-members", text: "add to python-sig: kvaldez rcarter" },
      { kind: "grant-acl", text: "give @python-sig commit on rpms/python-* !python2-*" },
    ]);
    expect(operationsOf(event)).toEqual([{ kind: "plan-event", text: "event Flock 2026 (large, 2026-06-03 to 2026-06-05, Prague, Czech Republic, owner jdoe, budget 25000 USD)" }]);
    expect(operationsOf(meeting, { calendar: "council", slug: "fesco-meeting" })).toEqual([
      { kind: "add-meeting", text: "fedocal: add FESCo meeting to council on 2026-12-09 17:00:00-18:00:00 UTC (managers jdoe)" },
    ]);
  });

  it("plans a branch's files of every kind, the calendar from the path", () => {
    const files = new Map([
      ["calendar/council/2026-12-09-fesco-meeting.yaml", renderProposedDocument(meeting)],
      ["releases/f44/branching.yaml", renderProposedDocument(massBranch)],
      ["sigs/go-sig.yaml", renderProposedDocument(sig)],
    ]);
    const { operations, problems } = operationsOfFiles(files);
    expect(problems).toEqual(["sigs/go-sig.yaml:3: /spec a SigRequest with this spec must live at sigs/python-sig.yaml, not sigs/go-sig.yaml"]);
    expect(operations[0]).toMatchObject({ requestKind: "CalendarEntry", path: "calendar/council/2026-12-09-fesco-meeting.yaml", text: expect.stringContaining("to council on 2026-12-09") as string });
    expect(operations.filter((o) => o.requestKind === "MassBranch")).toHaveLength(11);
  });
});

import { describe, expect, it } from "vitest";
import {
  BODHI_DEFAULTS,
  mapEnvelope,
  nextBodhiSpec,
  parseComposeId,
  releaseOfDistTag,
  scmSource,
  UNKNOWN_SHA,
  type BodhiUpdateMessage,
  type BusEffect,
  type MappingOptions,
} from "../../src/domain/busMapping.js";
import { parseEnvelope, type Envelope } from "../../src/domain/envelope.js";
import { buildCompleteMessage, ciTestMessage, fixtureJson, fixtureMessages } from "../support/fedoraMessages.js";

const options: MappingOptions = { rawhideVersion: 45 };

function envelopeOf(json: unknown): Envelope {
  const parsed = parseEnvelope(json);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

const mapFixture = (file: string): BusEffect => mapEnvelope(envelopeOf(fixtureJson(file)), options);

function withBody(envelope: Envelope, change: (body: Record<string, unknown>) => void): Envelope {
  const body = structuredClone(envelope.body);
  change(body);
  return { ...envelope, body };
}

// What each fixture file maps to. Folders not listed here are topics relengd does not map.
const EXPECTED: Record<string, BusEffect["kind"]> = {
  "buildsys.build.state.change/000.json": "ignored", // CANCELED
  "buildsys.build.state.change/001.json": "ignored", // CANCELED
  "buildsys.build.state.change/002.json": "ignored", // DELETED (an image build)
  "buildsys.build.state.change/003.json": "artifact", // ansible-1.8.3-1.el7 COMPLETE
  "buildsys.tag/000.json": "kojiTag",
  "buildsys.tag/001.json": "ignored", // the s390 Koji
  "buildsys.untag/000.json": "kojiTag",
  "buildsys.package.list.change/000.json": "sideTag", // f31-build-side-20267
  "bodhi.update.request.testing/002.json": "ignored", // a Bodhi 1 update without an alias yet
  "ci.pipeline.allpackages-build.package.test.functional.complete/000.json": "results",
  "ci.pipeline.allpackages-pr.package.test.functional.complete/000.json": "ignored", // scratch build
  "ci.pipeline.compose.test.integration.complete/000.json": "ignored", // no NVR
  "ci.pipeline.image.test.smoke.complete/000.json": "ignored", // no NVR
  "pungi.compose.status.change/000.json": "compose", // FINISHED
  "pungi.compose.status.change/001.json": "ignored", // DOOMED
  "pungi.compose.status.change/002.json": "ignored", // STARTED
  "resultsdb.result.new/000.json": "ignored", // about a bodhi_update
  "waiverdb.waiver.new/000.json": "waiver", // dummy-test-package-gloster-0-548.fc33
  "waiverdb.waiver.new/001.json": "ignored", // names only a ResultsDB result id
};
/** Folders whose every message changes a Bodhi update's document. */
const BODHI_FOLDERS = [
  "bodhi.update.complete.stable",
  "bodhi.update.complete.testing",
  "bodhi.update.edit",
  "bodhi.update.request.obsolete",
  "bodhi.update.request.revoke",
  "bodhi.update.request.stable",
  "bodhi.update.request.testing",
  "bodhi.update.request.unpush",
  "bodhi.update.status.testing.koji-build-group.build.complete",
];

function expectedKind(file: string): BusEffect["kind"] {
  return EXPECTED[file] ?? (BODHI_FOLDERS.includes(file.split("/")[0] as string) ? "bodhiUpdate" : "ignored");
}

describe("bus message mapping over every fixture", () => {
  const fixtures = fixtureMessages();

  it.each(fixtures.map((f) => [f.file] as const))("maps %s to its known outcome without throwing", (file) => {
    const effect = mapFixture(file);
    expect(effect.kind).toBe(expectedKind(file));
    if (effect.kind === "ignored") expect(effect.reason.length).toBeGreaterThan(10);
  });

  it("covers the corpus: one artifact, one result, 15 Bodhi changes, 2 tag changes, 1 side tag, 1 compose, 1 waiver, the rest ignored, nothing rejected", () => {
    const kinds = fixtures.map((f) => mapFixture(f.file).kind);
    const count = (k: string) => kinds.filter((x) => x === k).length;
    expect({
      artifact: count("artifact"),
      results: count("results"),
      bodhiUpdate: count("bodhiUpdate"),
      kojiTag: count("kojiTag"),
      compose: count("compose"),
      waiver: count("waiver"),
      sideTag: count("sideTag"),
      rejected: count("rejected"),
    }).toEqual({ artifact: 1, results: 1, bodhiUpdate: 15, kojiTag: 2, compose: 1, waiver: 1, sideTag: 1, rejected: 0 });
    expect(count("ignored")).toBe(126 - 22);
  });

  it("says an unknown topic is not mapped, and why a known one changes nothing", () => {
    expect(mapFixture("taskotron.result.new/000.json")).toMatchObject({ kind: "ignored", reason: "topic taskotron.result.new is not one relengd maps" });
    expect(mapFixture("bodhi.update.comment/000.json")).toEqual({
      kind: "ignored",
      reason: "bodhi.update.comment does not change an update's document (only requests, pushes, edits and closures do)",
    });
    expect(mapFixture("buildsys.build.state.change/000.json")).toEqual({ kind: "ignored", reason: "build state CANCELED; only COMPLETE builds become artifacts" });
  });
});

describe("buildsys.build.state.change COMPLETE → artifact", () => {
  it("mirrors a fedmsg-era build (no SCM URL) with the placeholder commit and dist-git repo", () => {
    expect(mapFixture("buildsys.build.state.change/003.json")).toEqual({
      kind: "artifact",
      artifact: {
        id: "koji-build-612324",
        package: "ansible",
        release: "epel7",
        source: { repo: "https://src.fedoraproject.org/rpms/ansible.git", sha: UNKNOWN_SHA, event: "mirror" },
        items: [{ kind: "koji-build", nvr: "ansible-1.8.3-1.el7", buildId: 612324, taskId: 8973154, owner: "kevin" }],
        context: { KOJI_BUILD_ID: "612324", SOURCE_SHA: "unknown" },
      },
    });
  });

  it("takes the repository, commit and target from the build request's SCM URL", () => {
    // The prusa-slicer build of the fixture, had it completed instead of being cancelled.
    const completed = withBody(envelopeOf(fixtureJson("buildsys.build.state.change/001.json")), (b) => (b.new = 1));
    const effect = mapEnvelope(completed, options);
    expect(effect).toMatchObject({
      kind: "artifact",
      artifact: {
        id: "koji-build-2860061",
        package: "prusa-slicer",
        release: "f44",
        source: {
          repo: "https://src.fedoraproject.org/rpms/prusa-slicer.git",
          sha: "ddbac739fc9482082b06028e5606f74c06e1db07",
          event: "mirror",
          url: "https://koji.fedoraproject.org/koji/buildinfo?buildID=2860061",
        },
        items: [{ kind: "koji-build", nvr: "prusa-slicer-2.9.4-1.fc44", buildId: 2860061, taskId: 139004033, target: "rawhide", owner: "spot" }],
        context: { KOJI_BUILD_ID: "2860061" },
      },
    });
    // fc44 is Rawhide once Rawhide is 44.
    expect(mapEnvelope(completed, { rawhideVersion: 44 })).toMatchObject({ artifact: { release: "rawhide" } });
  });

  it("gives staging builds their own ids (staging Koji numbers builds independently)", () => {
    const stg = buildCompleteMessage({ id: "m1", buildId: 42, name: "bash", version: "5.2", release: "1.fc45", topicPrefix: "org.fedoraproject.stg." });
    expect(mapEnvelope(stg, options)).toMatchObject({ kind: "artifact", artifact: { id: "koji-build-stg-42", release: "rawhide" } });
  });

  it("ignores builds on CentOS's Koji and on secondary Koji instances", () => {
    const centos = buildCompleteMessage({ id: "m1", buildId: 42, name: "bash", version: "5.2", release: "1.el9", topicPrefix: "org.centos.prod." });
    expect(mapEnvelope(centos, options)).toMatchObject({ kind: "ignored", reason: expect.stringContaining("not Fedora's") });
    const secondary = withBody(buildCompleteMessage({ id: "m2", buildId: 43, name: "bash", version: "5.2", release: "1.fc41" }), (b) => (b.instance = "s390"));
    expect(mapEnvelope(secondary, options)).toMatchObject({ kind: "ignored", reason: expect.stringContaining("s390") });
  });

  it("ignores a completed build without a Fedora or EPEL dist tag", () => {
    const image = buildCompleteMessage({ id: "m1", buildId: 42, name: "Fedora-i3-Live", version: "Rawhide", release: "20240101.n.0" });
    expect(mapEnvelope(image, options)).toMatchObject({ kind: "ignored", reason: expect.stringContaining("no Fedora or EPEL dist tag") });
  });

  it.each([
    ["build_id", (b: Record<string, unknown>) => delete b.build_id, "/body/build_id"],
    ["a negative build_id", (b: Record<string, unknown>) => (b.build_id = -1), "/body/build_id"],
    ["name", (b: Record<string, unknown>) => delete b.name, "/body/name"],
    ["a name with a slash", (b: Record<string, unknown>) => (b.name = "../etc"), "/body/name"],
    ["the state", (b: Record<string, unknown>) => delete b.new, "/body/new"],
    ["a release with a dash", (b: Record<string, unknown>) => (b.release = "1-2.fc41"), "/body/release"],
  ])("rejects a build message with a missing or wrong %s, naming the field", (_what, change, path) => {
    const message = withBody(buildCompleteMessage({ id: "m1", buildId: 42, name: "bash", version: "5.2", release: "1.fc41" }), change);
    expect(mapEnvelope(message, options)).toMatchObject({ kind: "rejected", path });
  });

  it.each([
    ["1.fc41", "f41"],
    ["0.rc1.fc44.1", "f44"],
    ["1.fc45", "rawhide"],
    ["1.fc46", "rawhide"],
    ["1.el7", "epel7"],
    ["3.el9", "epel9"],
    ["1.el10_1", "epel10.1"],
    ["1.el9.next", "epel9-next"],
    ["1.eln150", "eln"],
    ["1.module_f33+10411+6b1ab8d1", undefined],
    ["20240101.n.0", undefined],
  ])("derives the release of %s as %s", (release, expected) => {
    expect(releaseOfDistTag(release, options)).toBe(expected);
  });

  it("reads SCM URLs the way Koji writes them", () => {
    expect(scmSource(["git+https://src.fedoraproject.org/rpms/foo.git#ABCDEF1234567"])).toEqual({ repo: "https://src.fedoraproject.org/rpms/foo.git", sha: "abcdef1234567" });
    expect(scmSource(["git+https://pagure.io/fedora-kickstarts.git?#eab4fdc148f58e61d17e975c2dfe6181137daaa4"])).toEqual({
      repo: "https://pagure.io/fedora-kickstarts.git",
      sha: "eab4fdc148f58e61d17e975c2dfe6181137daaa4",
    });
    expect(scmSource(["git://pkgs.fedoraproject.org/rpms/foo?#rawhide"])).toEqual({ repo: "git://pkgs.fedoraproject.org/rpms/foo" });
    expect(scmSource(["Fedora-i3-Live", 42, "file:///etc/passwd#abcdef1"])).toBeUndefined();
  });
});

describe("CI results → results appended by NVR", () => {
  it("maps the CentOS CI pipeline's functional test result, named by its topic as ResultsDB did", () => {
    expect(mapFixture("ci.pipeline.allpackages-build.package.test.functional.complete/000.json")).toEqual({
      kind: "results",
      nvr: "nmstate-0.0.5-2.fc28",
      results: [
        {
          kind: "ci-result",
          testcase: "org.centos.prod.ci.pipeline.allpackages-build.package.test.functional.complete",
          outcome: "PASSED",
          refUrl:
            "https://jenkins-continuous-infra.apps.ci.centos.org/blue/organizations/jenkins/fedora-f28-build-pipeline/detail/fedora-f28-build-pipeline/384/pipeline/",
          // The message's sent-at: the result's own time.
          submittedAt: "2019-04-12T13:10:28.000Z",
        },
      ],
    });
  });

  it("maps a pipeline FAILURE and UNSTABLE to FAILED, and rejects a status it does not know", () => {
    const base = envelopeOf(fixtureJson("ci.pipeline.allpackages-build.package.test.functional.complete/000.json"));
    expect(mapEnvelope(withBody(base, (b) => (b.status = "FAILURE")), options)).toMatchObject({ results: [{ outcome: "FAILED" }] });
    expect(mapEnvelope(withBody(base, (b) => (b.status = "UNSTABLE")), options)).toMatchObject({ results: [{ outcome: "FAILED" }] });
    expect(mapEnvelope(withBody(base, (b) => (b.status = "MAYBE")), options)).toMatchObject({ kind: "rejected", path: "/body/status" });
    expect(mapEnvelope(withBody(base, (b) => (b.nvr = "")), options)).toMatchObject({ kind: "rejected", path: "/body/nvr" });
  });

  it("maps Fedora CI's koji-build test.complete to <namespace>.<type>.<category>", () => {
    expect(mapEnvelope(ciTestMessage({ id: "c1", nvr: "bash-5.2.37-1.fc45", result: "passed" }), options)).toEqual({
      kind: "results",
      nvr: "bash-5.2.37-1.fc45",
      results: [{ kind: "ci-result", testcase: "fedora-ci.koji-build.tier0.functional", outcome: "PASSED", refUrl: "https://artifacts.dev.testing-farm.io/c1", submittedAt: "2026-11-17T15:00:00.000Z" }],
    });
    expect(mapEnvelope(ciTestMessage({ id: "c2", nvr: "bash-5.2.37-1.fc45", result: "needs_inspection" }), options)).toMatchObject({
      results: [{ outcome: "NEEDS_INSPECTION" }],
    });
    expect(mapEnvelope(ciTestMessage({ id: "c3", nvr: "bash-5.2.37-1.fc45", result: "not_applicable" }), options)).toMatchObject({
      results: [{ outcome: "INFO", note: "NOT_APPLICABLE" }],
    });
  });

  it("maps test.error to an ERROR result with the reason, and ignores progress and scratch builds", () => {
    expect(mapEnvelope(ciTestMessage({ id: "c1", nvr: "bash-5.2.37-1.fc45", state: "error" }), options)).toMatchObject({
      kind: "results",
      results: [{ outcome: "ERROR", note: "Testing Farm request failed: no machine available" }],
    });
    expect(mapEnvelope(ciTestMessage({ id: "c2", nvr: "bash-5.2.37-1.fc45", state: "running" }), options)).toMatchObject({ kind: "ignored" });
    expect(mapEnvelope(ciTestMessage({ id: "c3", nvr: "bash-5.2.37-1.fc45", scratch: true }), options)).toMatchObject({
      kind: "ignored",
      reason: expect.stringContaining("scratch"),
    });
  });

  it.each([
    ["the NVR", (b: Record<string, unknown>) => delete (b.artifact as Record<string, unknown>).nvr, "/body/artifact/nvr"],
    ["the test namespace", (b: Record<string, unknown>) => delete (b.test as Record<string, unknown>).namespace, "/body/test/namespace"],
    ["the result", (b: Record<string, unknown>) => delete (b.test as Record<string, unknown>).result, "/body/test/result"],
    ["the test", (b: Record<string, unknown>) => delete b.test, "/body/test"],
  ])("rejects a CI result without %s", (_what, change, path) => {
    expect(mapEnvelope(withBody(ciTestMessage({ id: "c1", nvr: "bash-5.2.37-1.fc45" }), change), options)).toMatchObject({ kind: "rejected", path });
  });

  it("maps ResultsDB results about a koji_build, in the fedmsg shape and in ResultsDB 2's", () => {
    const old = withBody(envelopeOf(fixtureJson("resultsdb.result.new/000.json")), (b) => {
      b.task = { type: "koji_build", item: "bash-5.2.37-1.fc45", name: "dist.rpmdeplint" };
    });
    expect(mapEnvelope(old, options)).toEqual({
      kind: "results",
      nvr: "bash-5.2.37-1.fc45",
      // ResultsDB's own submit_time ("2019-04-24 13:06:12 UTC"), not a sent-at.
      results: [{ kind: "ci-result", testcase: "dist.rpmdeplint", outcome: "PASSED", refUrl: "https://openqa.stg.fedoraproject.org/tests/528801", submittedAt: "2019-04-24T13:06:12.000Z" }],
    });
    const v2: Envelope = {
      id: "r2",
      topic: "org.fedoraproject.prod.resultsdb.result.new",
      headers: {},
      body: {
        id: 123,
        outcome: "FAILED",
        testcase: { name: "fedora-ci.koji-build.tier0.functional", ref_url: "https://docs.fedoraproject.org/ci" },
        ref_url: "https://artifacts.dev.testing-farm.io/123",
        data: { item: ["bash-5.2.37-1.fc45"], type: ["koji_build"], scenario: ["fedora.rawhide.x86_64"] },
        note: "2 tests failed",
      },
    };
    expect(mapEnvelope(v2, options)).toEqual({
      kind: "results",
      nvr: "bash-5.2.37-1.fc45",
      results: [
        {
          kind: "ci-result",
          testcase: "fedora-ci.koji-build.tier0.functional",
          outcome: "FAILED",
          refUrl: "https://artifacts.dev.testing-farm.io/123",
          scenario: "fedora.rawhide.x86_64",
          note: "2 tests failed",
        },
      ],
    });
    // ResultsDB 2's submit_time is ISO 8601 without a zone, in UTC.
    expect(mapEnvelope(withBody(v2, (b) => (b.submit_time = "2026-11-20T08:15:30.123456")), options)).toMatchObject({ results: [{ submittedAt: "2026-11-20T08:15:30.123Z" }] });
    expect(mapEnvelope(withBody(v2, (b) => (b.data = { item: ["FEDORA-2026-1"], type: ["bodhi_update"] })), options)).toMatchObject({ kind: "ignored" });
    expect(mapEnvelope(withBody(v2, (b) => (b.outcome = "GREAT")), options)).toMatchObject({ kind: "rejected", path: "/body/outcome" });
    expect(mapEnvelope(withBody(v2, (b) => delete b.data), options)).toMatchObject({ kind: "rejected", path: "/body/data" });
  });
});

/** The Bodhi change a fixture maps to (the test fails if it maps to something else). */
function bodhiOf(envelope: Envelope): BodhiUpdateMessage {
  const effect = mapEnvelope(envelope, options);
  if (effect.kind !== "bodhiUpdate") throw new Error(`expected a Bodhi change, got ${JSON.stringify(effect)}`);
  return effect.update;
}
const bodhiFixture = (file: string) => bodhiOf(envelopeOf(fixtureJson(file)));

describe("bodhi.update.* → a change to the update's merge request", () => {
  it("reads a full Bodhi message's fields in Bodhi's names", () => {
    expect(bodhiFixture("bodhi.update.complete.testing/000.json")).toEqual({
      alias: "FEDORA-2019-02cd019281",
      action: "update",
      summary: "pushed to testing",
      fields: {
        release: "F29",
        builds: ["nfs-ganesha-2.7.4-1.fc29"],
        type: "bugfix",
        severity: "unspecified",
        notes: "nfs-ganesha 2.7.4 GA",
        bugs: [],
        stable_karma: 3,
        unstable_karma: -3,
        autokarma: true,
        request: "testing",
      },
      problems: [],
    });
  });

  it("makes complete.stable a merge and obsolete, revoke and unpush closures with their reason", () => {
    expect(bodhiFixture("bodhi.update.complete.stable/000.json")).toMatchObject({ alias: "FEDORA-2019-d64d0caab3", action: "merge", fields: { request: "stable" } });
    expect(bodhiFixture("bodhi.update.request.obsolete/000.json")).toMatchObject({ action: "close", closure: "obsolete" });
    expect(bodhiFixture("bodhi.update.request.revoke/000.json")).toMatchObject({ action: "close", closure: "revoke" });
    expect(bodhiFixture("bodhi.update.request.unpush/000.json")).toMatchObject({ action: "close", closure: "unpush", alias: "FEDORA-2019-8da6360454" });
    // A closure says nothing of the request: the document keeps the one it had.
    expect(bodhiFixture("bodhi.update.request.obsolete/000.json").fields.request).toBeUndefined();
  });

  it("takes an edit's request from the update, and ignores one it cannot hold", () => {
    const edit = envelopeOf(fixtureJson("bodhi.update.edit/000.json"));
    expect(bodhiOf(edit).fields.request).toBe("testing");
    expect(bodhiOf(withBody(edit, (b) => ((b.update as Record<string, unknown>).request = "revoke"))).fields.request).toBeUndefined();
  });

  it("names the update of a CI koji-build-group message by its URL when the message carries no update", () => {
    expect(bodhiFixture("bodhi.update.status.testing.koji-build-group.build.complete/001.json")).toMatchObject({
      alias: "FEDORA-2021-53a7dfa185",
      action: "update",
      fields: { release: "F34", builds: ["gdb-11.1-5.fc34"], request: "testing" },
    });
    expect(bodhiFixture("bodhi.update.status.testing.koji-build-group.build.complete/003.json").fields.release).toBe("EPEL-8");
    expect(bodhiFixture("bodhi.update.status.testing.koji-build-group.build.complete/000.json").fields).toMatchObject({ release: "ELN", builds: ["flatseal-2.0.1-1.eln126"] });
  });

  it("keeps a value relengd/v1 cannot hold out of the fields and names it as a problem", () => {
    const odd = withBody(envelopeOf(fixtureJson("bodhi.update.complete.testing/000.json")), (b) => {
      const u = b.update as Record<string, unknown>;
      u.type = "newfeature";
      u.stable_karma = 0;
      u.bugs = [{ bug_id: 1701 }, { bug_id: "x" }];
    });
    const update = bodhiOf(odd);
    expect(update.fields.type).toBeUndefined();
    expect(update.fields.stable_karma).toBeUndefined();
    expect(update.fields.bugs).toEqual([1701]);
    expect(update.problems).toEqual([
      expect.stringMatching(/^\/spec\/type Bodhi says "newfeature"; relengd\/v1 knows newpackage, /),
      expect.stringMatching(/^\/spec\/bugs /),
      expect.stringMatching(/^\/spec\/stable_karma Bodhi says 0; /),
    ]);
  });

  it("rejects a message whose alias, release or builds cannot place a document, naming the field", () => {
    const stable = envelopeOf(fixtureJson("bodhi.update.request.stable/000.json"));
    const change = (f: (u: Record<string, unknown>) => void) => mapEnvelope(withBody(stable, (b) => f(b.update as Record<string, unknown>)), options);
    expect(change((u) => delete u.alias)).toMatchObject({ kind: "rejected", path: "/body/update/alias" });
    expect(change((u) => (u.alias = "../etc"))).toMatchObject({ kind: "rejected", path: "/body/update/alias" });
    expect(change((u) => (u.release = { name: "f29/../x" }))).toMatchObject({ kind: "rejected", path: "/body/update/release/name" });
    expect(change((u) => (u.builds = [{ nvr: "no-dashes" }]))).toMatchObject({ kind: "rejected", path: "/body/update/builds/0/nvr" });
    expect(mapEnvelope(withBody(stable, (b) => delete b.update), options)).toMatchObject({ kind: "rejected", path: "/body/update" });
  });

  it("ignores staging Bodhi and the topics that change no document", () => {
    const stable = envelopeOf(fixtureJson("bodhi.update.request.stable/000.json"));
    expect(mapEnvelope({ ...stable, topic: "org.fedoraproject.stg.bodhi.update.request.stable" }, options)).toMatchObject({ kind: "ignored" });
    expect(mapFixture("bodhi.update.karma.threshold.reach/000.json")).toMatchObject({ kind: "ignored" });
    expect(mapFixture("bodhi.update.request.testing/002.json")).toMatchObject({ kind: "ignored", reason: expect.stringContaining("neither an alias nor an updateid") });
  });

  // fedmsg_meta_fedora_infrastructure's recorded bodhi.update.complete.testing of 2012 (Bodhi 1:
  // `updateid`, no `alias`), trimmed to the fields relengd reads.
  const bodhi1Pushed: Envelope = {
    id: "2012-bodhi1-complete-testing",
    topic: "org.fedoraproject.prod.bodhi.update.complete.testing",
    headers: { "sent-at": "2012-08-08T17:43:59+00:00" },
    body: {
      update: {
        close_bugs: true,
        critpath: false,
        stable_karma: 3,
        date_pushed: 1344447839.0,
        title: "fedmsg-0.2.7-2.el6",
        updateid: "FEDORA-EPEL-2012-6650",
        type: "bugfix",
        status: "testing",
        date_submitted: 1344266152.0,
        unstable_karma: -3,
        release: { dist_tag: "dist-6E-epel", id_prefix: "FEDORA-EPEL", locked: false, name: "EL-6", long_name: "Fedora EPEL 6" },
        builds: [{ nvr: "fedmsg-0.2.7-2.el6", package: { suggest_reboot: false, committers: ["ralph"], name: "fedmsg" } }],
        notes: "Bugfix - Added a forgotten new requirement on python-requests.",
        request: null,
        bugs: [],
        karma: 0,
        submitter: "ralph",
      },
    },
  };

  it("names a Bodhi 1 update (no alias) by its updateid once it was pushed", () => {
    expect(mapEnvelope(bodhi1Pushed, options)).toEqual({
      kind: "bodhiUpdate",
      update: {
        alias: "FEDORA-EPEL-2012-6650",
        action: "update",
        summary: "pushed to testing",
        fields: {
          release: "EL-6",
          builds: ["fedmsg-0.2.7-2.el6"],
          type: "bugfix",
          notes: "Bugfix - Added a forgotten new requirement on python-requests.",
          bugs: [],
          stable_karma: 3,
          unstable_karma: -3,
          request: "testing",
        },
        problems: [],
      },
    });
    // The recorded Bodhi 2 message without its alias: its updateid names the same update.
    const pushed = envelopeOf(fixtureJson("bodhi.update.complete.testing/000.json"));
    const withoutAlias = withBody(pushed, (b) => delete (b.update as Record<string, unknown>).alias);
    expect(mapEnvelope(withoutAlias, options)).toMatchObject({ kind: "bodhiUpdate", update: { alias: "FEDORA-2019-02cd019281" } });
    // A malformed updateid is refused, naming the field it came from.
    const badId = withBody(bodhi1Pushed, (b) => ((b.update as Record<string, unknown>).updateid = "../x"));
    expect(mapEnvelope(badId, options)).toMatchObject({ kind: "rejected", path: "/body/update/updateid" });
  });

  it("says what an update without any id lacks, and since when Bodhi gives one", () => {
    const effect = mapFixture("bodhi.update.request.testing/002.json");
    expect(effect).toEqual({
      kind: "ignored",
      reason:
        "update perl-Devel-CheckBin-0.02-2.fc20 has neither an alias nor an updateid (Bodhi 1 gave an update its id at its first push; status pending); the shadow repository names merge requests by that id",
    });
  });
});

describe("nextBodhiSpec: a message's fields over the mirrored document", () => {
  it("fills Bodhi's defaults for the first message seen, in the schema's key order", () => {
    const next = nextBodhiSpec(undefined, bodhiFixture("bodhi.update.request.testing/000.json"));
    expect(next).toEqual({
      ok: true,
      spec: { release: "F24", builds: ["systemd-231-14.fc24"], ...BODHI_DEFAULTS, alias: "FEDORA-2017-ea07abb5d5" },
      problems: expect.any(Array),
    });
    if (next.ok) expect(Object.keys(next.spec)).toEqual(["release", "builds", "type", "severity", "notes", "bugs", "request", "autokarma", "stable_karma", "unstable_karma", "autotime", "stable_days", "alias"]);
  });

  it("keeps what a short message does not say", () => {
    const first = nextBodhiSpec(undefined, bodhiFixture("bodhi.update.complete.testing/000.json"));
    if (!first.ok) throw new Error(first.reason);
    const stable: BodhiUpdateMessage = { alias: "FEDORA-2019-02cd019281", action: "update", summary: "stable requested", fields: { request: "stable" }, problems: [] };
    const next = nextBodhiSpec(first.spec, stable);
    expect(next).toMatchObject({ ok: true, spec: { ...first.spec, request: "stable" } });
  });

  it("mirrors an update of several builds without a side tag, naming what relengd/v1 says of it", () => {
    const next = nextBodhiSpec(undefined, bodhiFixture("bodhi.update.complete.stable/000.json"));
    expect(next.ok).toBe(true);
    if (!next.ok) return;
    expect(next.spec.builds).toEqual(["golang-github-SAP-go-hdb-0.14.1-1.fc29", "texworks-0.6.3-1.fc29"]);
    expect(next.problems).toContainEqual(expect.stringMatching(/^\/spec\/from_tag an update of several builds must come from a side tag/));
  });

  it("refuses a document without a release or builds, naming what is missing", () => {
    const bare: BodhiUpdateMessage = { alias: "FEDORA-2026-0123456789", action: "update", summary: "edited", fields: { notes: "hi" }, problems: [] };
    expect(nextBodhiSpec(undefined, bare)).toMatchObject({ ok: false, path: "/body/update/release" });
    expect(nextBodhiSpec(undefined, { ...bare, fields: { release: "F44" } })).toMatchObject({ ok: false, path: "/body/update/builds" });
  });
});

describe("buildsys.tag / buildsys.untag → observed Koji tag state", () => {
  it("reads a tag and an untag of the primary Koji", () => {
    expect(mapFixture("buildsys.tag/000.json")).toEqual({
      kind: "kojiTag",
      change: { action: "tag", tag: "f31-updates-pending", package: "http-parser", nvr: "http-parser-2.9.3-1.fc31", buildId: 1457909 },
    });
    // fedmsg-era messages name no instance and no build id.
    expect(mapFixture("buildsys.untag/000.json")).toEqual({
      kind: "kojiTag",
      change: { action: "untag", tag: "f16-updates-pending", package: "globus-gram-job-manager-sge", nvr: "globus-gram-job-manager-sge-1.5-2.fc16" },
    });
  });

  it("ignores secondary Kojis and staging, rejects a message without its tag or with a split-breaking version", () => {
    expect(mapFixture("buildsys.tag/001.json")).toMatchObject({ kind: "ignored", reason: expect.stringContaining("s390") });
    const tag = envelopeOf(fixtureJson("buildsys.tag/000.json"));
    expect(mapEnvelope({ ...tag, topic: "org.fedoraproject.stg.buildsys.tag" }, options)).toMatchObject({ kind: "ignored" });
    expect(mapEnvelope(withBody(tag, (b) => delete b.tag), options)).toMatchObject({ kind: "rejected", path: "/body/tag" });
    expect(mapEnvelope(withBody(tag, (b) => (b.version = "2.9-3")), options)).toMatchObject({ kind: "rejected", path: "/body/version" });
  });
});

describe("pungi.compose.status.change FINISHED → a ComposeRequest recorded as done", () => {
  it("maps a finished compose to the request relengd would have made for it", () => {
    expect(mapFixture("pungi.compose.status.change/000.json")).toEqual({
      kind: "compose",
      compose: {
        composeId: "Fedora-24-20151208.n.7",
        status: "FINISHED",
        spec: { release: "f24", type: "nightly", label: "20151208.n.7", reason: "mirrored: Pungi finished compose Fedora-24-20151208.n.7 (FINISHED)", composeId: "Fedora-24-20151208.n.7" },
      },
    });
    const incomplete = withBody(envelopeOf(fixtureJson("pungi.compose.status.change/002.json")), (b) => (b.status = "FINISHED_INCOMPLETE"));
    expect(mapEnvelope(incomplete, options)).toMatchObject({ kind: "compose", compose: { status: "FINISHED_INCOMPLETE", spec: { release: "f25", type: "production", label: "Atomic-20170206.0" } } });
  });

  it.each([
    ["Fedora-Rawhide-20230502.n.0", { release: "rawhide", type: "nightly", label: "20230502.n.0" }],
    ["Fedora-41-20241020.0", { release: "f41", type: "production", label: "20241020.0" }],
    ["Fedora-45-20261101.t.2", { release: "rawhide", type: "test", label: "20261101.t.2" }],
    ["Fedora-Cloud-40-20240601.0", { release: "f40", type: "production", label: "Cloud-20240601.0" }],
    ["Fedora-ELN-20241010.n.1", { release: "eln", type: "nightly", label: "20241010.n.1" }],
  ])("reads the compose id %s", (id, parts) => {
    expect(parseComposeId(id, options)).toEqual(parts);
  });

  it("ignores a compose id that is not Fedora's and rejects a message without one", () => {
    expect(parseComposeId("RHEL-9.4.0-20240101.1", options)).toBeUndefined();
    const finished = envelopeOf(fixtureJson("pungi.compose.status.change/000.json"));
    expect(mapEnvelope(withBody(finished, (b) => (b.compose_id = "CentOS-Stream-9-20240101.0")), options)).toMatchObject({ kind: "ignored" });
    expect(mapEnvelope(withBody(finished, (b) => delete b.compose_id), options)).toMatchObject({ kind: "rejected", path: "/body/compose_id" });
  });
});

describe("WaiverDB waivers → waivers of a build", () => {
  it("maps waiverdb.waiver.new about a koji_build to a waiver of that NVR at the message's sent-at", () => {
    expect(mapFixture("waiverdb.waiver.new/000.json")).toEqual({
      kind: "waiver",
      nvr: "dummy-test-package-gloster-0-548.fc33",
      waiver: {
        testcase: "fedora-ci.koji-build.tier0.functional",
        waived: true,
        comment: "This is fine.",
        username: "ralph",
        waivedAt: new Date("2020-05-19T22:48:13Z"),
      },
    });
  });

  it("reads a revocation, a scenario and the nested subject of older messages", () => {
    const base = envelopeOf(fixtureJson("waiverdb.waiver.new/000.json"));
    expect(mapEnvelope(withBody(base, (b) => (b.waived = false)), options)).toMatchObject({ kind: "waiver", waiver: { waived: false } });
    expect(mapEnvelope(withBody(base, (b) => (b.scenario = "fedora.rawhide.x86_64")), options)).toMatchObject({ waiver: { scenario: "fedora.rawhide.x86_64" } });
    const nested = withBody(base, (b) => {
      delete b.subject_type;
      delete b.subject_identifier;
    });
    expect(mapEnvelope(nested, options)).toMatchObject({ kind: "waiver", nvr: "dummy-test-package-gloster-0-548.fc33" });
  });

  it("ignores waivers of other subjects, of staging, and the oldest shape that names only a result id", () => {
    expect(mapFixture("waiverdb.waiver.new/001.json")).toMatchObject({ kind: "ignored", reason: "a waiver in org.fedoraproject.stg.* WaiverDB, not Fedora's production WaiverDB" });
    const base = envelopeOf(fixtureJson("waiverdb.waiver.new/000.json"));
    const oldShape = withBody(base, (b) => {
      for (const k of ["subject_type", "subject_identifier", "subject", "testcase"]) delete b[k];
      b.result_id = 123;
    });
    expect(mapEnvelope(oldShape, options)).toEqual({ kind: "ignored", reason: "a waiver of ResultsDB result 123 (an old WaiverDB message): it names no build" });
    const update = withBody(base, (b) => {
      b.subject_type = "bodhi_update";
      b.subject_identifier = "FEDORA-2026-1";
    });
    expect(mapEnvelope(update, options)).toMatchObject({ kind: "ignored", reason: "a waiver of a bodhi_update (FEDORA-2026-1), not a koji_build" });
  });

  it.each([
    ["subject_identifier", (b: Record<string, unknown>) => (b.subject_identifier = "not an nvr"), "/body/subject_identifier"],
    ["testcase", (b: Record<string, unknown>) => (b.testcase = 42), "/body/testcase"],
    ["waived", (b: Record<string, unknown>) => (b.waived = "yes"), "/body/waived"],
    ["username", (b: Record<string, unknown>) => delete b.username, "/body/username"],
    ["comment (a lone surrogate)", (b: Record<string, unknown>) => (b.comment = "fine\ud83d"), "/body/comment"],
  ])("rejects a waiver with a bad %s, naming the field", (_what, change, path) => {
    expect(mapEnvelope(withBody(envelopeOf(fixtureJson("waiverdb.waiver.new/000.json")), change), options)).toMatchObject({ kind: "rejected", path });
  });
});

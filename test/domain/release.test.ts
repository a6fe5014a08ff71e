// A stored release record turned into the spec the writer renders (and the dashboard shows).
import { describe, expect, it } from "vitest";
import { finalStatuses, isFinalStatus, isReleaseStatus, RELEASE_STATUS, releaseStatuses, toReleaseSpec } from "../../src/domain/release.js";
import type { ReleaseRecord } from "../../src/store/releaseRepository.js";

const createdAt = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
// A record as the store gives it to the writer and the dashboard.
const record: ReleaseRecord = {
  seq: 7,
  id: "01JRELEASE0000000000000000",
  artifactId: "koji-build:bash-5.2.37-1.fc45",
  environment: "rawhide",
  repository: "gitops",
  branch: "main",
  package: "bash",
  trigger: "policy/rawhide-auto",
  createdBy: "relengd",
  force: false,
  forceReason: null,
  bulk: false,
  status: "pushed",
  reason: null,
  supersededBy: null,
  error: null,
  attempts: 1,
  nextAttemptAt: null,
  commitSha: "0123abcd",
  createdAt,
  updatedAt: new Date(Date.UTC(2026, 0, 3)),
  pushedAt: new Date(Date.UTC(2026, 0, 3)),
  preflight: null,
  repoclosureReportId: null,
  repoclosure: null,
};

describe("toReleaseSpec", () => {
  it("keeps what the document and commit are made of, and nothing of the queue's bookkeeping", () => {
    expect(toReleaseSpec(record)).toStrictEqual({
      id: record.id,
      artifactId: record.artifactId,
      environment: "rawhide",
      trigger: "policy/rawhide-auto",
      createdAt,
    });
  });

  it("a stored null force reason is no force reason at all (no key, so no trailer)", () => {
    expect("forceReason" in toReleaseSpec(record)).toBe(false);
  });

  it("a forced release carries its reason", () => {
    const forced: ReleaseRecord = { ...record, force: true, forceReason: "bad build in the tag" };
    expect(toReleaseSpec(forced)).toMatchObject({ forceReason: "bad build in the tag" });
  });

  it("an empty force reason is treated as none, as the writer always did", () => {
    expect("forceReason" in toReleaseSpec({ ...record, forceReason: "" })).toBe(false);
  });
});

describe("release statuses", () => {
  it("names every status by itself, and nothing else", () => {
    expect(Object.entries(RELEASE_STATUS).every(([name, status]) => name === status)).toBe(true);
    expect(Object.values(RELEASE_STATUS).sort()).toEqual([...releaseStatuses].sort());
  });

  it("tells a status from any other string", () => {
    for (const status of releaseStatuses) expect(isReleaseStatus(status)).toBe(true);
    expect(isReleaseStatus("Queued")).toBe(false);
    expect(isReleaseStatus("")).toBe(false);
    expect(isReleaseStatus("held")).toBe(false);
  });

  it("counts as final exactly the states a release does not leave on its own", () => {
    expect(releaseStatuses.filter(isFinalStatus)).toEqual(releaseStatuses.filter((s) => finalStatuses.includes(s)));
    expect(isFinalStatus(RELEASE_STATUS.queued)).toBe(false);
    expect(isFinalStatus(RELEASE_STATUS.committed)).toBe(false);
    expect(isFinalStatus(RELEASE_STATUS.pushed)).toBe(true);
    expect(isFinalStatus(RELEASE_STATUS.failed)).toBe(true);
  });
});

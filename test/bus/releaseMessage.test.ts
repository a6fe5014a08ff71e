import { describe, expect, it } from "vitest";
import { announcedStatuses, isAnnouncedOutcome } from "../../src/bus/releaseMessage.js";
import { releaseStatuses } from "../../src/domain/release.js";

describe("isAnnouncedOutcome", () => {
  it("picks the announced statuses a release ends in: not queued, not superseded or committed", () => {
    expect(releaseStatuses.filter(isAnnouncedOutcome)).toEqual(["pushed", "failed", "blocked"]);
    expect(announcedStatuses.filter((s) => !isAnnouncedOutcome(s))).toEqual(["queued"]);
  });
});

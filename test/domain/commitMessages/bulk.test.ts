// The bulk commit message: several releases in one commit (a mass rebuild), rendered and parsed
// by one module; the writer's history scan finds every release id in it.
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseBulkCommitMessage, renderBulkCommitMessage, type BulkCommitInfo } from "../../../src/domain/commitMessages/bulk.js";
import { renderReleaseCommitMessage } from "../../../src/domain/commitMessages/release.js";
import { oneLine, parseReleaseIds, TRAILER } from "../../../src/domain/commitMessages/trailers.js";
import { anyFilledText, anyText, filledLine, lineText } from "../../support/messageValues.js";

const bulk: BulkCommitInfo = {
  trigger: "policy/mass-rebuild",
  releases: [
    { releaseId: "01JB8ZQ3V4M6X7Y8Z9A0B1C2D4", artifactId: "koji-build-1", environment: "rawhide", nvrs: ["bash-5.2.37-1.fc45"] },
    { releaseId: "01JB8ZQ3V4M6X7Y8Z9A0B1C2D5", artifactId: "koji-build-2", environment: "f44", nvrs: [] },
    { releaseId: "01JB8ZQ3V4M6X7Y8Z9A0B1C2D6", artifactId: "koji-build-3", environment: "rawhide", nvrs: ["tcsh-6.24-1.fc45", "1:qt6-qttools-6.9.1-2.fc44"] },
  ],
};

describe("bulk commit messages", () => {
  it("keep their bytes: the subject counts releases and names environments, the trigger comes first", () => {
    expect(renderBulkCommitMessage(bulk)).toBe(
      "bulk: 3 releases to f44, rawhide\n\nRelengd-Trigger: policy/mass-rebuild\nRelengd-Release-Id: 01JB8ZQ3V4M6X7Y8Z9A0B1C2D4\nRelengd-Artifact-Id: koji-build-1\nRelengd-Environment: rawhide\nRelengd-Nvr: bash-5.2.37-1.fc45\nRelengd-Release-Id: 01JB8ZQ3V4M6X7Y8Z9A0B1C2D5\nRelengd-Artifact-Id: koji-build-2\nRelengd-Environment: f44\nRelengd-Release-Id: 01JB8ZQ3V4M6X7Y8Z9A0B1C2D6\nRelengd-Artifact-Id: koji-build-3\nRelengd-Environment: rawhide\nRelengd-Nvr: tcsh-6.24-1.fc45\nRelengd-Nvr: 1:qt6-qttools-6.9.1-2.fc44\n",
    );
    const [first] = bulk.releases;
    if (!first) throw new Error("no release");
    expect(renderBulkCommitMessage({ ...bulk, releases: [first] })).toBe(
      "bulk: 1 release to rawhide\n\nRelengd-Trigger: policy/mass-rebuild\nRelengd-Release-Id: 01JB8ZQ3V4M6X7Y8Z9A0B1C2D4\nRelengd-Artifact-Id: koji-build-1\nRelengd-Environment: rawhide\nRelengd-Nvr: bash-5.2.37-1.fc45\n",
    );
  });

  it("round-trip, and give every release id to the history scan", () => {
    const message = renderBulkCommitMessage(bulk);
    expect(parseBulkCommitMessage(message)).toEqual(bulk);
    expect(parseReleaseIds(message)).toEqual(bulk.releases.map((r) => r.releaseId));
  });

  it("are read by git as the same trailers", () => {
    const out = execFileSync("git", ["interpret-trailers", "--parse"], { input: renderBulkCommitMessage(bulk), encoding: "utf8" });
    expect(out.split("\n").filter((l) => l.startsWith(`${TRAILER.releaseId}: `))).toHaveLength(3);
  });

  it("round-trip any bulk whose values are single lines", () => {
    const release = fc.record({ releaseId: filledLine, artifactId: filledLine, environment: filledLine, nvrs: fc.array(lineText, { maxLength: 3 }) });
    fc.assert(
      fc.property(filledLine, fc.array(release, { minLength: 1, maxLength: 5 }), (trigger, releases) => {
        const info = { trigger, releases };
        const message = renderBulkCommitMessage(info);
        expect(parseBulkCommitMessage(message)).toEqual(info);
        expect(parseReleaseIds(message)).toEqual(releases.map((r) => r.releaseId.trim()));
      }),
    );
  });

  it("read back any bulk as its values made one line: no value forges a release or a trigger", () => {
    const release = fc.record({ releaseId: anyFilledText, artifactId: anyFilledText, environment: anyFilledText, nvrs: fc.array(anyText, { maxLength: 3 }) });
    fc.assert(
      fc.property(anyFilledText, fc.array(release, { minLength: 1, maxLength: 5 }), (trigger, releases) => {
        const message = renderBulkCommitMessage({ trigger, releases });
        expect(parseBulkCommitMessage(message)).toEqual({
          trigger: oneLine(trigger),
          releases: releases.map((r) => ({ releaseId: oneLine(r.releaseId), artifactId: oneLine(r.artifactId), environment: oneLine(r.environment), nvrs: r.nvrs.map(oneLine) })),
        });
        expect(parseReleaseIds(message)).toHaveLength(releases.length);
      }),
    );
  });

  it("round-trip a mass rebuild of thousands of releases", () => {
    const releases = Array.from({ length: 5000 }, (_, i) => ({ releaseId: `01JB8ZQ3V4M6X7Y8Z9A${String(i).padStart(7, "0")}`, artifactId: `koji-build-${i}`, environment: i % 2 ? "rawhide" : "f44", nvrs: [`pkg${i}-1-1.fc45`] }));
    const message = renderBulkCommitMessage({ trigger: "policy/mass-rebuild", releases });
    expect(message.split("\n")[0]).toBe("bulk: 5000 releases to f44, rawhide");
    expect(parseBulkCommitMessage(message)).toEqual({ trigger: "policy/mass-rebuild", releases });
  });

  it.each([
    ["a release commit", renderReleaseCommitMessage({ subject: "koji-tag: a-1-1.fc45 → f45", releaseId: "01A", artifactId: "a", environment: "rawhide", trigger: "policy/x", nvrs: [] })],
    ["a person's commit", "bulk: my notes\n\nSigned-off-by: Alice <alice@example.org>\n"],
    ["a bulk without releases", "bulk: 0 releases to\n\nRelengd-Trigger: policy/x\n"],
    ["a release without its environment", "bulk: 1 release to rawhide\n\nRelengd-Trigger: policy/x\nRelengd-Release-Id: 01A\nRelengd-Artifact-Id: a\n"],
    ["a trailer before the first release id", "bulk: 1 release to rawhide\n\nRelengd-Trigger: policy/x\nRelengd-Nvr: a-1-1.fc45\nRelengd-Release-Id: 01A\nRelengd-Artifact-Id: a\nRelengd-Environment: rawhide\n"],
    ["a second trigger", "bulk: 1 release to rawhide\n\nRelengd-Trigger: policy/x\nRelengd-Release-Id: 01A\nRelengd-Artifact-Id: a\nRelengd-Environment: rawhide\nRelengd-Trigger: policy/y\n"],
    ["a subject without a body", "bulk: 1 release to rawhide\n"],
  ])("are not read from %s", (_name, message) => {
    expect(parseBulkCommitMessage(message)).toBeUndefined();
  });
});

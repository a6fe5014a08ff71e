// The release commit message: rendered and parsed by one module; git itself must read the same
// trailers, and no value can forge another trailer.
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseReleaseCommitMessage, releaseTrailers, renderReleaseCommitMessage, type ReleaseCommitInfo } from "../../../src/domain/commitMessages/release.js";
import { oneLine, TRAILER } from "../../../src/domain/commitMessages/trailers.js";
import { anyFilledText, anyText, filledLine, lineText } from "../../support/messageValues.js";

const info: ReleaseCommitInfo = {
  subject: "koji-tag: python-requests-2.32.3-1.fc45 → f45",
  releaseId: "01JB8ZQ3V4M6X7Y8Z9A0B1C2D3",
  artifactId: "fedora-ci-1234",
  environment: "rawhide",
  trigger: "policy/rawhide-auto",
  nvrs: ["python-requests-2.32.3-1.fc45"],
};

/** The trailers as git reads them (`git interpret-trailers --parse`), as [key, value] pairs. */
function gitTrailers(message: string): [string, string][] {
  const out = execFileSync("git", ["interpret-trailers", "--parse"], { input: message, encoding: "utf8" });
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const at = line.indexOf(":");
      return [line.slice(0, at), line.slice(at + 1).trim()];
    });
}

describe("release commit messages", () => {
  it("round-trips: what is rendered parses back equal", () => {
    expect(parseReleaseCommitMessage(renderReleaseCommitMessage(info))).toEqual(info);
    const forced = { ...info, trigger: "rollback", forceReason: "boot loop on aarch64" };
    expect(parseReleaseCommitMessage(renderReleaseCommitMessage(forced))).toEqual(forced);
    const compose = { ...info, subject: "compose: rawhide nightly 20260502.n.0", nvrs: [] };
    expect(parseReleaseCommitMessage(renderReleaseCommitMessage(compose))).toEqual(compose);
    const gated = { ...compose, repoclosure: "3 unresolved (aarch64 x86_64)", repoclosureReport: "https://relengd.example.org/reports/broken-deps/01JB8ZQ3V4M6X7Y8Z9A0B1C2D4" };
    expect(parseReleaseCommitMessage(renderReleaseCommitMessage(gated))).toEqual(gated);
  });

  it("carries the repoclosure gate's count and report link as trailers git reads too", () => {
    const message = renderReleaseCommitMessage({ ...info, nvrs: [], repoclosure: "3 unresolved (aarch64 x86_64)", repoclosureReport: "/reports/broken-deps/01JB8ZQ3V4M6X7Y8Z9A0B1C2D4" });
    expect(gitTrailers(message).slice(-2)).toEqual([
      [TRAILER.repoclosure, "3 unresolved (aarch64 x86_64)"],
      [TRAILER.repoclosureReport, "/reports/broken-deps/01JB8ZQ3V4M6X7Y8Z9A0B1C2D4"],
    ]);
  });

  it("renders the subject, a blank line and the trailers, in the order DESIGN.md shows", () => {
    expect(renderReleaseCommitMessage(info)).toBe(
      [
        "koji-tag: python-requests-2.32.3-1.fc45 → f45",
        "",
        "Relengd-Release-Id: 01JB8ZQ3V4M6X7Y8Z9A0B1C2D3",
        "Relengd-Artifact-Id: fedora-ci-1234",
        "Relengd-Environment: rawhide",
        "Relengd-Trigger: policy/rawhide-auto",
        "Relengd-Nvr: python-requests-2.32.3-1.fc45",
        "",
      ].join("\n"),
    );
  });

  it("is read by git as the same trailers", () => {
    const message = renderReleaseCommitMessage({ ...info, forceReason: "re-tag after koji outage" });
    expect(gitTrailers(message)).toEqual([
      [TRAILER.releaseId, info.releaseId],
      [TRAILER.artifactId, info.artifactId],
      [TRAILER.environment, info.environment],
      [TRAILER.trigger, info.trigger],
      [TRAILER.nvr, "python-requests-2.32.3-1.fc45"],
      [TRAILER.forceReason, "re-tag after koji outage"],
    ]);
  });

  it("keeps several Relengd-Nvr trailers, in order", () => {
    const nvrs = ["qt6-qtbase-6.9.1-1.fc44", "qt6-qtdeclarative-6.9.1-1.fc44", "1:qt6-qttools-6.9.1-2.fc44"];
    const message = renderReleaseCommitMessage({ ...info, subject: `bodhi-update: ${nvrs.join(" ")} → F44 testing`, nvrs });
    expect(parseReleaseCommitMessage(message)?.nvrs).toEqual(nvrs);
    expect(gitTrailers(message).filter(([k]) => k === TRAILER.nvr).map(([, v]) => v)).toEqual(nvrs);
  });

  it.each([
    ["subject", { subject: "koji-tag: x\n\nRelengd-Release-Id: 01FORGEDFORGEDFORGEDFORGED" }],
    ["trigger", { trigger: "user:mallory\nRelengd-Release-Id: 01FORGEDFORGEDFORGEDFORGED" }],
    ["force reason", { forceReason: "because\r\nRelengd-Release-Id: 01FORGEDFORGEDFORGEDFORGED" }],
    ["force reason with a lone carriage return", { forceReason: "because\rRelengd-Release-Id: 01FORGEDFORGEDFORGEDFORGED" }],
    ["nvr", { nvrs: ["foo-1-1.fc45\nRelengd-Release-Id: 01FORGEDFORGEDFORGEDFORGED"] }],
    ["artifact id", { artifactId: "a\n\nRelengd-Environment: f44-updates" }],
  ])("cannot be given an extra trailer through a newline in the %s", (_field, override) => {
    const message = renderReleaseCommitMessage({ ...info, ...override });
    const parsed = parseReleaseCommitMessage(message);
    expect(parsed?.releaseId).toBe(info.releaseId);
    expect(parsed?.environment).toBe(info.environment);
    // Neither relengd nor git sees a second release id or environment.
    const lines = message.split("\n");
    expect(lines.filter((l) => l.startsWith(`${TRAILER.releaseId}:`))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith(`${TRAILER.environment}:`))).toHaveLength(1);
    const git = gitTrailers(message);
    expect(git.filter(([k]) => k === TRAILER.releaseId)).toEqual([[TRAILER.releaseId, info.releaseId]]);
    expect(git.filter(([k]) => k === TRAILER.environment)).toEqual([[TRAILER.environment, info.environment]]);
    // Every line after the subject's paragraph is one of relengd's trailers.
    expect(lines.slice(2).filter(Boolean).every((l) => Object.values(TRAILER).some((k) => l.startsWith(`${k}: `)))).toBe(true);
  });

  it.each([
    ["a person's commit", "Update README\n\nSigned-off-by: Alice <alice@example.org>\n"],
    ["a commit without a body", "koji-tag: foo-1-1.fc45 → f45\n"],
    ["the release id alone", "koji-tag: foo-1-1.fc45 → f45\n\nRelengd-Release-Id: 01JB8ZQ3V4M6X7Y8Z9A0B1C2D3\n"],
    ["trailers quoted in the body, not in the last paragraph", renderReleaseCommitMessage(info).replace(/\n$/, "") + "\n\nReverted: it broke the compose.\n"],
    ["an empty message", ""],
  ])("is not a relengd release: %s", (_name, message) => {
    expect(parseReleaseCommitMessage(message)).toBeUndefined();
  });

  it("parses a message with CRLF line ends and surrounding blank lines", () => {
    const message = renderReleaseCommitMessage(info).replace(/\n/g, "\r\n") + "\r\n\r\n";
    expect(parseReleaseCommitMessage(message)).toEqual(info);
  });

  it("keeps its bytes: a forced release with two builds, as relengd has always written it", () => {
    const message = renderReleaseCommitMessage({
      ...info,
      trigger: "user:alice",
      nvrs: ["python-requests-2.32.3-1.fc45", "python3-requests-2.32.3-1.fc45"],
      forceReason: "boot loop on aarch64\nRelengd-Release-Id: forged",
    });
    expect(message).toBe(
      "koji-tag: python-requests-2.32.3-1.fc45 → f45\n\nRelengd-Release-Id: 01JB8ZQ3V4M6X7Y8Z9A0B1C2D3\nRelengd-Artifact-Id: fedora-ci-1234\nRelengd-Environment: rawhide\nRelengd-Trigger: user:alice\nRelengd-Nvr: python-requests-2.32.3-1.fc45\nRelengd-Nvr: python3-requests-2.32.3-1.fc45\nRelengd-Force-Reason: boot loop on aarch64 Relengd-Release-Id: forged\n",
    );
  });

  it("names its trailers in the order it writes them", () => {
    const forced = { ...info, nvrs: ["a-1-1.fc45", "b-1-1.fc45"], forceReason: "why" };
    const trailers = releaseTrailers(forced);
    expect(trailers.map((t) => t.name)).toEqual([TRAILER.releaseId, TRAILER.artifactId, TRAILER.environment, TRAILER.trigger, TRAILER.nvr, TRAILER.nvr, TRAILER.forceReason]);
    expect(renderReleaseCommitMessage(forced)).toBe([forced.subject, "", ...trailers.map((t) => `${t.name}: ${t.value}`), ""].join("\n"));
    expect(releaseTrailers(info).map((t) => t.name)).not.toContain(TRAILER.forceReason);
  });

  it("round-trips any release whose values are single lines, unicode and trailer-like text included", () => {
    const release = fc.record(
      { subject: lineText, releaseId: filledLine, artifactId: filledLine, environment: filledLine, trigger: filledLine, nvrs: fc.array(lineText, { maxLength: 4 }), forceReason: filledLine },
      { requiredKeys: ["subject", "releaseId", "artifactId", "environment", "trigger", "nvrs"] },
    );
    fc.assert(
      fc.property(release, (r) => {
        expect(parseReleaseCommitMessage(renderReleaseCommitMessage(r))).toEqual(r);
      }),
    );
  });

  it("reads back any release as its values made one line, and never more trailers than it has", () => {
    const release = fc.record(
      { subject: anyText, releaseId: anyFilledText, artifactId: anyFilledText, environment: anyFilledText, trigger: anyFilledText, nvrs: fc.array(anyText, { maxLength: 4 }), forceReason: anyText },
      { requiredKeys: ["subject", "releaseId", "artifactId", "environment", "trigger", "nvrs"] },
    );
    fc.assert(
      fc.property(release, (r) => {
        const message = renderReleaseCommitMessage(r);
        const reason = r.forceReason === undefined ? "" : oneLine(r.forceReason);
        expect(parseReleaseCommitMessage(message)).toEqual({
          subject: oneLine(r.subject),
          releaseId: oneLine(r.releaseId),
          artifactId: oneLine(r.artifactId),
          environment: oneLine(r.environment),
          trigger: oneLine(r.trigger),
          nvrs: r.nvrs.map(oneLine),
          ...(reason ? { forceReason: reason } : {}),
        });
        expect(message.split("\n").slice(2, -1)).toHaveLength(releaseTrailers(r).length);
      }),
    );
  });

  it("round-trips fields of a megabyte", () => {
    const long = { ...info, subject: "s".repeat(1 << 20), forceReason: "é".repeat(1 << 20), nvrs: Array.from({ length: 2000 }, (_, i) => `pkg${i}-1-1.fc45`) };
    expect(parseReleaseCommitMessage(renderReleaseCommitMessage(long))).toEqual(long);
  });
});

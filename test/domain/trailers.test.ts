// The release commit message: rendered and parsed by one module; git itself must read the same
// trailers, and no value can forge another trailer.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseCommitMessage, releaseTrailers, renderCommitMessage, TRAILER, type ReleaseCommitInfo } from "../../src/domain/trailers.js";

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
    expect(parseCommitMessage(renderCommitMessage(info))).toEqual(info);
    const forced = { ...info, trigger: "rollback", forceReason: "boot loop on aarch64" };
    expect(parseCommitMessage(renderCommitMessage(forced))).toEqual(forced);
    const compose = { ...info, subject: "compose: rawhide nightly 20260502.n.0", nvrs: [] };
    expect(parseCommitMessage(renderCommitMessage(compose))).toEqual(compose);
  });

  it("renders the subject, a blank line and the trailers, in the order DESIGN.md shows", () => {
    expect(renderCommitMessage(info)).toBe(
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
    const message = renderCommitMessage({ ...info, forceReason: "re-tag after koji outage" });
    expect(gitTrailers(message)).toEqual([
      [TRAILER.releaseId, info.releaseId],
      [TRAILER.artifactId, info.artifactId],
      [TRAILER.environment, info.environment],
      [TRAILER.trigger, info.trigger],
      [TRAILER.nvr, "python-requests-2.32.3-1.fc45"],
      [TRAILER.forceReason, "re-tag after koji outage"],
    ]);
  });

  it("lists its trailers as name and value in the order the message has them (the dashboard shows them so)", () => {
    const forced = { ...info, nvrs: ["a-1-1.fc45", "b-2-1.fc45"], forceReason: "re-tag after koji outage" };
    expect(releaseTrailers(forced).map((t) => [t.name, t.value])).toEqual(gitTrailers(renderCommitMessage(forced)));
    expect(releaseTrailers(info).map((t) => t.name)).toEqual([TRAILER.releaseId, TRAILER.artifactId, TRAILER.environment, TRAILER.trigger, TRAILER.nvr]);
  });

  it("keeps several Relengd-Nvr trailers, in order", () => {
    const nvrs = ["qt6-qtbase-6.9.1-1.fc44", "qt6-qtdeclarative-6.9.1-1.fc44", "1:qt6-qttools-6.9.1-2.fc44"];
    const message = renderCommitMessage({ ...info, subject: `bodhi-update: ${nvrs.join(" ")} → F44 testing`, nvrs });
    expect(parseCommitMessage(message)?.nvrs).toEqual(nvrs);
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
    const message = renderCommitMessage({ ...info, ...override });
    const parsed = parseCommitMessage(message);
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
    ["trailers quoted in the body, not in the last paragraph", renderCommitMessage(info).replace(/\n$/, "") + "\n\nReverted: it broke the compose.\n"],
    ["an empty message", ""],
  ])("is not a relengd release: %s", (_name, message) => {
    expect(parseCommitMessage(message)).toBeUndefined();
  });

  it("parses a message with CRLF line ends and surrounding blank lines", () => {
    const message = renderCommitMessage(info).replace(/\n/g, "\r\n") + "\r\n\r\n";
    expect(parseCommitMessage(message)).toEqual(info);
  });
});

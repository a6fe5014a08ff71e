// Shadow-repository commit messages: every commit of the shadow repository names the bus message
// it mirrors; a merge into main is a kind of its own. Rendered and parsed by one module.
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mapEnvelope } from "../../../src/domain/busMapping.js";
import {
  parseShadowCommitMessage,
  parseShadowMergeMessage,
  renderShadowCommitMessage,
  renderShadowMergeMessage,
  SHADOW_ROOT_MESSAGE,
  SHADOW_TRAILER,
  type ShadowCommitInfo,
  type ShadowMergeInfo,
} from "../../../src/domain/commitMessages/shadow.js";
import { oneLine, TRAILER } from "../../../src/domain/commitMessages/trailers.js";
import { parseEnvelope } from "../../../src/domain/envelope.js";
import { mergeRequestBranch } from "../../../src/domain/shadowBranches.js";
import { fixtureMessages } from "../../support/fedoraMessages.js";
import { anyFilledText, anyText, filledLine, lineText } from "../../support/messageValues.js";

const obsoleted: ShadowCommitInfo = {
  subject: "bodhi: FEDORA-2019-d64d0caab3 obsoleted (a-1-1.fc29, b-2-1.fc29)",
  messageId: "0b0dfb68-1",
  topic: "org.fedoraproject.prod.bodhi.update.request.obsolete",
  alias: "FEDORA-2019-d64d0caab3",
  closed: "obsolete",
  nvrs: ["a-1-1.fc29", "b-2-1.fc29"],
  problems: ["/spec/from_tag an update of several builds must come from a side tag", "/spec/severity x"],
};
const stable: ShadowMergeInfo = {
  messageId: "m2",
  topic: "org.fedoraproject.prod.bodhi.update.complete.stable",
  alias: "FEDORA-2019-02cd019281",
  branch: "mr/FEDORA-2019-02cd019281",
  summary: "pushed to stable",
  nvrs: ["nfs-ganesha-2.7.4-1.fc29"],
};
const compose: ShadowCommitInfo = {
  subject: "compose: Fedora-24-20151208.n.7 finished",
  messageId: "m3",
  topic: "org.fedoraproject.prod.pungi.compose.status.change",
  composeId: "Fedora-24-20151208.n.7",
  composeStatus: "FINISHED",
  nvrs: [],
  problems: [],
};

describe("shadow commit messages", () => {
  it("render and parse back to the same information", () => {
    const infos: ShadowCommitInfo[] = [
      { subject: "bodhi: FEDORA-2019-d64d0caab3 obsoleted (a-1-1.fc29)", messageId: "0b0dfb68", topic: "org.fedoraproject.prod.bodhi.update.request.obsolete", alias: "FEDORA-2019-d64d0caab3", closed: "obsolete", nvrs: ["a-1-1.fc29", "b-2-1.fc29"], problems: ["/spec/from_tag an update of several builds must come from a side tag"] },
      { subject: "Merge mr/X: pushed", messageId: "m2", topic: "bodhi.update.complete.stable", alias: "FEDORA-2026-0123456789", merge: "mr/FEDORA-2026-0123456789", nvrs: [], problems: [] },
      { subject: "compose: Fedora-Rawhide-20230502.n.0 finished", messageId: "m3", topic: "org.fedoraproject.prod.pungi.compose.status.change", composeId: "Fedora-Rawhide-20230502.n.0", composeStatus: "FINISHED", nvrs: [], problems: [] },
    ];
    for (const info of infos) expect(parseShadowCommitMessage(renderShadowCommitMessage(info))).toEqual(info);
  });

  it("keep a newline in a value from forging a trailer, and refuse a message that is not a shadow commit", () => {
    const forged = renderShadowCommitMessage({ subject: "s", messageId: "m\nRelengd-Shadow-Closed: obsolete", topic: "t", nvrs: [], problems: [] });
    expect(parseShadowCommitMessage(forged)).toMatchObject({ messageId: "m Relengd-Shadow-Closed: obsolete" });
    expect(parseShadowCommitMessage(forged)?.closed).toBeUndefined();
    expect(parseShadowCommitMessage("koji-tag: foo\n\nRelengd-Release-Id: 01J\nRelengd-Trigger: policy/x\n")).toBeUndefined();
  });
});

describe("shadow commit messages, byte for byte", () => {
  it("keep the bytes of an update's commit that closes its merge request", () => {
    expect(renderShadowCommitMessage(obsoleted)).toBe(
      "bodhi: FEDORA-2019-d64d0caab3 obsoleted (a-1-1.fc29, b-2-1.fc29)\n\nRelengd-Trigger: mirror\nRelengd-Bus-Message-Id: 0b0dfb68-1\nRelengd-Bus-Topic: org.fedoraproject.prod.bodhi.update.request.obsolete\nRelengd-Bodhi-Alias: FEDORA-2019-d64d0caab3\nRelengd-Shadow-Closed: obsolete\nRelengd-Nvr: a-1-1.fc29\nRelengd-Nvr: b-2-1.fc29\nRelengd-Schema-Problem: /spec/from_tag an update of several builds must come from a side tag\nRelengd-Schema-Problem: /spec/severity x\n",
    );
  });

  it("keep the bytes of a merge into main", () => {
    expect(renderShadowMergeMessage(stable)).toBe(
      "Merge mr/FEDORA-2019-02cd019281: FEDORA-2019-02cd019281 pushed to stable\n\nRelengd-Trigger: mirror\nRelengd-Bus-Message-Id: m2\nRelengd-Bus-Topic: org.fedoraproject.prod.bodhi.update.complete.stable\nRelengd-Bodhi-Alias: FEDORA-2019-02cd019281\nRelengd-Shadow-Merge: mr/FEDORA-2019-02cd019281\nRelengd-Nvr: nfs-ganesha-2.7.4-1.fc29\n",
    );
  });

  it("keep the bytes of a compose on main, and of the repository's first commit", () => {
    expect(renderShadowCommitMessage(compose)).toBe(
      "compose: Fedora-24-20151208.n.7 finished\n\nRelengd-Trigger: mirror\nRelengd-Bus-Message-Id: m3\nRelengd-Bus-Topic: org.fedoraproject.prod.pungi.compose.status.change\nRelengd-Compose-Id: Fedora-24-20151208.n.7\nRelengd-Compose-Status: FINISHED\n",
    );
    expect(SHADOW_ROOT_MESSAGE).toBe("shadow repository\n");
    expect(parseShadowCommitMessage(SHADOW_ROOT_MESSAGE)).toBeUndefined();
  });

  it("are read by git as the same trailers", () => {
    const out = execFileSync("git", ["interpret-trailers", "--parse"], { input: renderShadowCommitMessage(obsoleted), encoding: "utf8" });
    expect(out.split("\n").filter(Boolean).map((l) => l.slice(0, l.indexOf(":")))).toEqual([
      TRAILER.trigger,
      SHADOW_TRAILER.messageId,
      SHADOW_TRAILER.topic,
      SHADOW_TRAILER.alias,
      SHADOW_TRAILER.closed,
      TRAILER.nvr,
      TRAILER.nvr,
      SHADOW_TRAILER.problem,
      SHADOW_TRAILER.problem,
    ]);
  });
});

describe("shadow merge messages", () => {
  it("round-trip, and are shadow commits too (the writer's recovery finds them by message id)", () => {
    const message = renderShadowMergeMessage(stable);
    expect(parseShadowMergeMessage(message)).toEqual(stable);
    expect(parseShadowCommitMessage(message)).toMatchObject({ messageId: stable.messageId, merge: stable.branch, subject: "Merge mr/FEDORA-2019-02cd019281: FEDORA-2019-02cd019281 pushed to stable" });
  });

  it("are not read from a commit on the merge request, a compose, or a merge whose subject names another branch", () => {
    expect(parseShadowMergeMessage(renderShadowCommitMessage(obsoleted))).toBeUndefined();
    expect(parseShadowMergeMessage(renderShadowCommitMessage(compose))).toBeUndefined();
    const elsewhere = renderShadowCommitMessage({ subject: "Merge mr/OTHER: FEDORA-2019-02cd019281 pushed to stable", messageId: "m", topic: "t", alias: stable.alias, merge: stable.branch, nvrs: [], problems: [] });
    expect(parseShadowMergeMessage(elsewhere)).toBeUndefined();
  });

  it("round-trip a merge with nothing to say", () => {
    const quiet = { ...stable, summary: "", nvrs: [] };
    expect(renderShadowMergeMessage(quiet).split("\n")[0]).toBe("Merge mr/FEDORA-2019-02cd019281: FEDORA-2019-02cd019281");
    expect(parseShadowMergeMessage(renderShadowMergeMessage(quiet))).toEqual(quiet);
  });
});

const optionalLine = fc.option(lineText, { nil: undefined });
const shadowCommit = (text: fc.Arbitrary<string>, filled: fc.Arbitrary<string>, optional: fc.Arbitrary<string | undefined>) =>
  fc
    .record({
      subject: text,
      messageId: filled,
      topic: filled,
      alias: optional,
      closed: optional,
      merge: optional,
      composeId: optional,
      composeStatus: optional,
      nvrs: fc.array(text, { maxLength: 3 }),
      problems: fc.array(text, { maxLength: 3 }),
    })
    // An absent trailer is an absent key, as the parser gives it back.
    .map((info) => Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)) as unknown as ShadowCommitInfo);

describe("shadow messages of any values", () => {
  it("round-trip any shadow commit whose values are single lines", () => {
    fc.assert(
      fc.property(shadowCommit(lineText, filledLine, optionalLine), (info) => {
        expect(parseShadowCommitMessage(renderShadowCommitMessage(info))).toEqual(info);
      }),
    );
  });

  it("read back any shadow commit as its values made one line, and never more trailers than it has", () => {
    fc.assert(
      fc.property(shadowCommit(anyText, anyFilledText, fc.option(anyText, { nil: undefined })), (info) => {
        const message = renderShadowCommitMessage(info);
        const lined = Object.fromEntries(Object.entries(info).map(([k, v]) => [k, Array.isArray(v) ? v.map((x: string) => oneLine(x)) : oneLine(v as string)]));
        expect(parseShadowCommitMessage(message)).toEqual(lined);
        const optional = (["alias", "closed", "merge", "composeId", "composeStatus"] as const).filter((k) => info[k] !== undefined).length;
        expect(message.split("\n").slice(2, -1)).toHaveLength(3 + optional + info.nvrs.length + info.problems.length);
      }),
    );
  });

  it("round-trip any merge whose values are single lines", () => {
    const merge = fc.record({ messageId: filledLine, topic: filledLine, alias: filledLine, branch: lineText, summary: lineText, nvrs: fc.array(lineText, { maxLength: 3 }) });
    fc.assert(
      fc.property(merge, (info) => {
        expect(parseShadowMergeMessage(renderShadowMergeMessage(info))).toEqual(info);
      }),
    );
  });

  it("let no value of a merge forge a trailer", () => {
    const merge = fc.record({ messageId: anyFilledText, topic: anyFilledText, alias: anyText, branch: anyText, summary: anyText, nvrs: fc.array(anyText, { maxLength: 3 }) });
    fc.assert(
      fc.property(merge, (info) => {
        const message = renderShadowMergeMessage(info);
        expect(parseShadowCommitMessage(message)).toMatchObject({ messageId: oneLine(info.messageId), topic: oneLine(info.topic), alias: oneLine(info.alias), merge: oneLine(info.branch), nvrs: info.nvrs.map(oneLine), problems: [] });
        expect(message.split("\n").slice(2, -1)).toHaveLength(5 + info.nvrs.length);
      }),
    );
  });

  it("round-trip values of a megabyte", () => {
    const long = { ...obsoleted, subject: "ü".repeat(1 << 20), problems: ["p".repeat(1 << 20)] };
    expect(parseShadowCommitMessage(renderShadowCommitMessage(long))).toEqual(long);
  });
});

describe("shadow messages of the recorded Fedora messages", () => {
  // Each Bodhi and Pungi message of the fixtures, as the mapping reads it, in the messages ingest writes.
  const effects = fixtureMessages().flatMap(({ file, json }) => {
    const parsed = parseEnvelope(json);
    if (!parsed.ok) return [];
    const effect = mapEnvelope(parsed.value, { rawhideVersion: 45 });
    return effect.kind === "bodhiUpdate" || effect.kind === "compose" ? [{ file, envelope: parsed.value, effect }] : [];
  });

  it("are there to read", () => {
    expect(effects.filter((e) => e.effect.kind === "bodhiUpdate").length).toBeGreaterThanOrEqual(8);
    expect(effects.filter((e) => e.effect.kind === "compose").length).toBeGreaterThanOrEqual(1);
    expect(effects.some((e) => e.effect.kind === "bodhiUpdate" && e.effect.update.action === "merge")).toBe(true);
  });

  it("round-trip", () => {
    for (const { file, envelope, effect } of effects) {
      const mirrored = { messageId: envelope.id, topic: envelope.topic };
      if (effect.kind === "compose") {
        const info: ShadowCommitInfo = { ...mirrored, subject: `compose: ${effect.compose.composeId} finished`, composeId: effect.compose.composeId, composeStatus: effect.compose.status, nvrs: [], problems: [] };
        expect(parseShadowCommitMessage(renderShadowCommitMessage(info)), file).toEqual(info);
        continue;
      }
      if (effect.kind !== "bodhiUpdate") continue;
      const { update } = effect;
      const nvrs = update.fields.builds ?? [];
      const info: ShadowCommitInfo = { ...mirrored, subject: `bodhi: ${update.alias} ${update.summary} (${nvrs.join(", ")})`, alias: update.alias, nvrs, problems: update.problems, ...(update.closure ? { closed: update.closure } : {}) };
      expect(parseShadowCommitMessage(renderShadowCommitMessage(info)), file).toEqual(info);
      if (update.action === "merge") {
        const merge: ShadowMergeInfo = { ...mirrored, alias: update.alias, branch: mergeRequestBranch(update.alias), summary: update.summary, nvrs };
        expect(parseShadowMergeMessage(renderShadowMergeMessage(merge)), file).toEqual(merge);
      }
    }
  });
});

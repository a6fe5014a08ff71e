// The layout every relengd commit message shares: one subject line, a blank line, one trailer
// paragraph; values made one line so that none can forge another trailer.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { oneLine, parseReleaseIds, readMessage, renderMessage, TRAILER, trailerValue, trailerValues } from "../../../src/domain/commitMessages/trailers.js";
import { anyText } from "../../support/messageValues.js";

describe("oneLine", () => {
  it.each([
    ["a\nb", "a b"],
    ["a\r\n\r\nb", "a b"],
    ["a\rb", "a b"],
    ["  padded \n", "padded"],
    ["\u2028kept\u2028inside\u2028", "kept\u2028inside"],
    ["", ""],
  ])("makes %j one line: %j", (value, expected) => {
    expect(oneLine(value)).toBe(expected);
  });

  it("leaves no carriage return or line feed, and changes nothing twice", () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const line = oneLine(value);
        expect(line).not.toMatch(/[\r\n]/);
        expect(oneLine(line)).toBe(line);
      }),
    );
  });
});

describe("renderMessage and readMessage", () => {
  it("render a subject, a blank line and the trailers, and read them back in order", () => {
    const trailers = [
      { name: "Relengd-Trigger", value: "mirror" },
      { name: "Relengd-Nvr", value: "a-1-1.fc45" },
      { name: "Relengd-Nvr", value: "b-2-1.fc45" },
    ];
    const message = renderMessage("subject", trailers);
    expect(message).toBe("subject\n\nRelengd-Trigger: mirror\nRelengd-Nvr: a-1-1.fc45\nRelengd-Nvr: b-2-1.fc45\n");
    const read = readMessage(message);
    expect(read).toEqual({ subject: "subject", trailers });
    expect(read && trailerValues(read, TRAILER.nvr)).toEqual(["a-1-1.fc45", "b-2-1.fc45"]);
    expect(read && trailerValue(read, TRAILER.nvr)).toBe("a-1-1.fc45");
    expect(read && trailerValue(read, TRAILER.releaseId)).toBeUndefined();
  });

  it("read any rendered message back as the same trailers, each value made one line", () => {
    fc.assert(
      fc.property(anyText, fc.array(fc.record({ name: fc.constantFrom(...Object.values(TRAILER)), value: anyText }), { minLength: 1, maxLength: 8 }), (subject, trailers) => {
        expect(readMessage(renderMessage(subject, trailers))).toEqual({ subject: oneLine(subject), trailers: trailers.map((t) => ({ name: t.name, value: oneLine(t.value) })) });
      }),
    );
  });

  it("read a value holding a unicode line separator (git does not split lines there)", () => {
    const read = readMessage("s\n\nRelengd-Force-Reason: a\u2028b\u2029c\n");
    expect(read?.trailers).toEqual([{ name: TRAILER.forceReason, value: "a\u2028b\u2029c" }]);
  });

  it("read only the last paragraph, and no trailers from a message of one paragraph or none", () => {
    expect(readMessage("s\n\nRelengd-Trigger: x\n\nSigned-off-by: A <a@example.org>\n")?.trailers).toEqual([{ name: "Signed-off-by", value: "A <a@example.org>" }]);
    expect(readMessage("only a subject\n")).toBeUndefined();
    expect(readMessage("")?.trailers ?? []).toEqual([]);
  });
});

describe("parseReleaseIds", () => {
  it("reads every release id of the last paragraph, trimmed, skipping empty ones", () => {
    expect(parseReleaseIds("bulk: 2 releases to rawhide\n\nRelengd-Trigger: policy/x\nRelengd-Release-Id: 01A  \nRelengd-Release-Id:\nRelengd-Release-Id:01B\n")).toEqual(["01A", "01B"]);
    expect(parseReleaseIds("Relengd-Release-Id: 01A\n")).toEqual([]);
    expect(parseReleaseIds("s\n\nRelengd-Release-Id: 01A\n\nReverted: yes\n")).toEqual([]);
  });
});

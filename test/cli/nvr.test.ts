// `relengd nvr compare` as a packager runs it: output and exit codes like rpmdev-vercmp.
import { describe, expect, it } from "vitest";
import { runRelengd } from "../support/cliProcess.js";
import { cleanEnv } from "../support/serverProcess.js";

const compare = (a: string, b: string) => runRelengd(["nvr", "compare", a, b], cleanEnv());

describe("relengd nvr compare", () => {
  // Each case is a node + tsx child process; on two shared cores four of them take seconds.
  it("prints the order with the arguments as given and exits 0, 11 or 12 like rpmdev-vercmp", { timeout: 60_000 }, async () => {
    const [older, newer, equal, evrs] = await Promise.all([
      compare("python-requests-2.32.3~rc1-1.fc45", "python-requests-2.32.3-1.fc45"),
      compare("1:python-requests-2.0-1.fc45", "python-requests-2.32.10-1.fc45"),
      compare("foo-1_0-1.fc41", "foo-0:1.0-1.fc41"),
      compare("1.0^git1-1", "1.0.1-1"),
    ]);
    expect(older).toEqual({ code: 12, stdout: "python-requests-2.32.3~rc1-1.fc45 < python-requests-2.32.3-1.fc45\n", stderr: "" });
    expect(newer).toEqual({ code: 11, stdout: "1:python-requests-2.0-1.fc45 > python-requests-2.32.10-1.fc45\n", stderr: "" });
    expect(equal).toEqual({ code: 0, stdout: "foo-1_0-1.fc41 == foo-0:1.0-1.fc41\n", stderr: "" });
    expect(evrs).toEqual({ code: 12, stdout: "1.0^git1-1 < 1.0.1-1\n", stderr: "" });
  });

  it("exits 2 with the reason on input it cannot order", { timeout: 60_000 }, async () => {
    const [garbage, packages, mixed, missing] = await Promise.all([
      compare("foo-1.0-1", "1.0 beta"),
      compare("foo-1.0-1", "bar-2.0-1"),
      compare("foo-1.0-1", "1.0-1"),
      runRelengd(["nvr", "compare", "foo-1.0-1"], cleanEnv()),
    ]);
    expect(garbage.code).toBe(2);
    expect(garbage.stdout).toBe("");
    expect(garbage.stderr).toContain('B "1.0 beta" is neither an NVR');
    expect(garbage.stderr).toContain('has a version "1.0 beta" with characters rpm does not allow');
    expect(packages).toMatchObject({ code: 2, stdout: "", stderr: "relengd: A and B are builds of different packages (foo and bar): they have no order\n" });
    expect(mixed).toMatchObject({ code: 2, stdout: "", stderr: "relengd: A is an NVR and B an EVR: compare two NVRs of one package or two EVRs\n" });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'b'");
  });
});

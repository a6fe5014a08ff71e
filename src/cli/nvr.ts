// `relengd nvr compare A B`: relengd's view of which build is newer, checkable by hand against rpmdev-vercmp.
import type { Command } from "commander";
import { compareEvr, evrOfNvr, parseEvr, type Evr, type Ordering } from "../domain/evr.js";
import { parseNvr, type Nvr } from "../domain/nvr.js";
import { CliError, exitCodes } from "./client.js";

/** rpmdev-vercmp's exit codes: 0 equal, 11 the first is newer, 12 the second is newer. */
export const compareExitCodes = { equal: 0, firstNewer: 11, secondNewer: 12 } as const;

type Operand = { kind: "nvr"; nvr: Nvr } | { kind: "evr"; evr: Evr };

/** An NVR when the text is one (the name may contain dashes), else an EVR. */
function operandOf(text: string, label: string): Operand {
  const nvr = parseNvr(text);
  if (nvr.ok) return { kind: "nvr", nvr: nvr.nvr };
  const evr = parseEvr(text);
  if (evr.ok) return { kind: "evr", evr: evr.evr };
  throw new CliError(`${label} "${text}" is neither an NVR (name-version-release: ${nvr.reason}) nor an EVR ([epoch:]version[-release]: ${evr.reason})`, exitCodes.usage);
}

/** The order of two NVRs of one name, or of two EVRs; anything else has no order. */
export function compareOperands(a: string, b: string): Ordering {
  const x = operandOf(a, "A");
  const y = operandOf(b, "B");
  if (x.kind === "nvr" && y.kind === "nvr") {
    if (x.nvr.name !== y.nvr.name) throw new CliError(`A and B are builds of different packages (${x.nvr.name} and ${y.nvr.name}): they have no order`, exitCodes.usage);
    return compareEvr(evrOfNvr(x.nvr), evrOfNvr(y.nvr));
  }
  if (x.kind === "evr" && y.kind === "evr") return compareEvr(x.evr, y.evr);
  const [nvrSide, evrSide] = x.kind === "nvr" ? ["A", "B"] : ["B", "A"];
  throw new CliError(`${nvrSide} is an NVR and ${evrSide} an EVR: compare two NVRs of one package or two EVRs`, exitCodes.usage);
}

export function registerNvrCommands(program: Command): void {
  const nvr = program.command("nvr").description("RPM builds (name-version-release) as relengd orders them");

  nvr
    .command("compare")
    .description("say which of two builds rpm considers newer (rpm.labelCompare order, like rpmdev-vercmp)")
    .argument("<a>", "an NVR (foo-1.2-3.fc41, 1:foo-1.2-3.fc41) or an EVR ([epoch:]version[-release])")
    .argument("<b>", "an NVR of the same package, or an EVR when A is one")
    .addHelpText(
      "after",
      `
Prints "A < B", "A == B" or "A > B" with the two arguments as given. A missing epoch is 0; an EVR
without a release is older than the same version with any release (as rpm.labelCompare has it).

Exit codes (rpmdev-vercmp's): 0 equal, 11 A is newer, 12 B is newer, 2 usage error (an argument
is neither an NVR nor an EVR, or the two are builds of different packages).`,
    )
    .action((a: string, b: string) => {
      const order = compareOperands(a, b);
      process.stdout.write(`${a} ${order < 0 ? "<" : order > 0 ? ">" : "=="} ${b}\n`);
      if (order !== 0) throw new CliError("", order > 0 ? compareExitCodes.firstNewer : compareExitCodes.secondNewer);
    });
}

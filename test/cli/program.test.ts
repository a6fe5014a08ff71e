// The verbs of the `relengd` program, read from the program itself: a verb added later is checked too.
import { Command } from "commander";
import { describe, expect, it, vi } from "vitest";
import { isClientVerb } from "../../src/cli/output.js";
import { buildProgram } from "../../src/cli/program.js";

/** Verbs that do not talk to a relengd server: they run on its host or read local files. */
const LOCAL_VERBS = [
  "serve",
  "migrate",
  "token issue",
  "token revoke",
  "artifact create",
  "artifact add",
  "lint",
  "nvr compare",
  "policy lint",
  "policy test",
  "prune",
  "check artifacts",
  "schema show",
  "schema export",
  "bus topics",
  "report broken-deps",
];

/** The program, and the commands given an action while it was built (commander's public `action()`). */
function builtProgram(): { program: Command; withAction: Set<Command> } {
  const withAction = new Set<Command>();
  const action = vi.spyOn(Command.prototype, "action");
  try {
    const program = buildProgram();
    for (const command of action.mock.contexts) if (command instanceof Command) withAction.add(command);
    return { program, withAction };
  } finally {
    action.mockRestore();
  }
}

/** Every command that does something (a leaf, or a parent with its own action like `release`), by its full name. */
function verbs(command: Command, withAction: Set<Command>, prefix: string[] = []): { name: string; command: Command }[] {
  return command.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    const own = c.commands.length === 0 || withAction.has(c) ? [{ name: path.join(" "), command: c }] : [];
    return [...own, ...verbs(c, withAction, path)];
  });
}

describe("the relengd program's verbs", () => {
  const { program, withAction } = builtProgram();
  const all = verbs(program, withAction);

  it("counts a parent with its own action as a verb, and a parent that only groups as none", () => {
    const names = all.map((v) => v.name);
    expect(names).toContain("release");
    expect(names).toContain("release list");
    expect(names).not.toContain("token");
  });

  it("has every verb either a client verb or a named local one", () => {
    const unclassified = all.filter((v) => !isClientVerb(v.command) && !LOCAL_VERBS.includes(v.name)).map((v) => v.name);
    expect(unclassified, "a verb that talks to relengd is made with clientVerb(); one that does not belongs in LOCAL_VERBS").toEqual([]);
    expect(all.filter((v) => isClientVerb(v.command) && LOCAL_VERBS.includes(v.name)).map((v) => v.name)).toEqual([]);
    // The list names verbs that exist.
    expect(LOCAL_VERBS.filter((name) => !all.some((v) => v.name === name))).toEqual([]);
  });

  it("lets every client verb take --output json", () => {
    const clients = all.filter((v) => isClientVerb(v.command));
    expect(clients.map((v) => v.name)).toEqual(expect.arrayContaining(["release", "release show", "release list", "release track", "rollback", "artifact push", "hold add", "policy reload"]));
    for (const { name, command } of clients) {
      const option = command.options.find((o) => o.long === "--output");
      expect(option, `${name} has --output`).toBeDefined();
      // commander parses the flag for this verb (a verb without it would answer "unknown option").
      expect(command.parseOptions(["--output", "json"]).unknown, name).toEqual([]);
      expect(command.opts().output, name).toBe("json");
    }
  });
});

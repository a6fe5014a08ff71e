// The fedora-scm-requests tickets and request-bot facts in test/fixtures/requests (a copy of ../shared/fixtures/requests; see its README).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../fixtures/requests", import.meta.url));

export interface ScmTicket {
  /** `new_branch/001.json` */
  file: string;
  action: "new_branch" | "new_repo";
  /** The ticket's JSON body without `action`: what a BranchRequest or RepoRequest spec holds. */
  spec: Record<string, unknown>;
}

/** Every ticket of scm-tickets/new_branch and scm-tickets/new_repo, in file order. */
export function scmTickets(): ScmTicket[] {
  const out: ScmTicket[] = [];
  for (const action of ["new_branch", "new_repo"] as const) {
    const dir = path.join(ROOT, "scm-tickets", action);
    for (const name of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
      const ticket = JSON.parse(readFileSync(path.join(dir, name), "utf8")) as { body: Record<string, unknown> };
      const { action: _action, ...spec } = ticket.body;
      out.push({ file: `${action}/${name}`, action, spec });
    }
  }
  return out;
}

/** A facts file of the fixtures (`facts/koji-sidetag.json`), parsed. */
export function requestFact(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(ROOT, file), "utf8")) as Record<string, unknown>;
}

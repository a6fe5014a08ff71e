// releng/fedora-scm-requests tickets as bus messages: no capture of one survives, so they are built
// from the real pagure.io issue envelopes in the shared fixtures and the real ticket titles and
// texts (the fixtures' README shows how). Also the shipped approval policies with their example facts.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Envelope } from "../../src/domain/envelope.js";
import { factSources, parseFactFile, type Facts, type FactSource, type FactValues } from "../../src/domain/requests/facts.js";
import { loadPolicies, type PolicySet } from "../../src/policy/loader.js";

// The copy of ../shared/fixtures/requests in test/fixtures (see its README).
const REQUESTS = fileURLToPath(new URL("../fixtures/requests", import.meta.url));
const SHIPPED = fileURLToPath(new URL("../../policies", import.meta.url));

export interface ScmTicketFixture {
  /** `new_branch/000.json` */
  file: string;
  action: "new_branch" | "new_repo";
  title: string;
  content: string;
  body: Record<string, unknown>;
}

/** Every ticket in the fixtures folder (held-out ones of the same shapes work the same way). */
export function scmTicketFixtures(): ScmTicketFixture[] {
  const root = path.join(REQUESTS, "scm-tickets");
  const out: ScmTicketFixture[] = [];
  for (const dir of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const name of readdirSync(path.join(root, dir)).filter((f) => f.endsWith(".json")).sort()) {
      const json = JSON.parse(readFileSync(path.join(root, dir, name), "utf8")) as { title: string; content: string; body: Record<string, unknown> };
      out.push({ file: `${dir}/${name}`, action: dir as ScmTicketFixture["action"], title: json.title, content: json.content, body: json.body });
    }
  }
  return out;
}

/** A pagure.io issue message of the shared fixtures, as its envelope (without `_source`). */
export function pagureMessage(topicFolder: string, file = "000.json"): Envelope {
  const { _source: _provenance, ...json } = JSON.parse(readFileSync(path.join(REQUESTS, "messages", topicFolder, file), "utf8")) as Record<string, unknown>;
  return json as unknown as Envelope;
}

export interface TicketState {
  id: string;
  ticketId: number;
  title: string;
  content: string;
  author?: string;
  agent?: string;
  /** fedmsg era: Open or the close status; modern: Open or Closed (with closeStatus). */
  status?: string;
  closeStatus?: string | null;
  closedBy?: string;
  comments?: { id: number; user: string; comment: string }[];
  topic?: "pagure.issue.new" | "pagure.issue.edit" | "pagure.issue.comment.added";
  prefix?: string;
  project?: Record<string, unknown>;
  /** The modern (pagure 5) shape: fullname, close_status, closed_by; else the fedmsg-era one. */
  modern?: boolean;
}

/** The queue's project as pagure 5 describes it. */
export const SCM_PROJECT_MODERN = { name: "fedora-scm-requests", namespace: "releng", fullname: "releng/fedora-scm-requests", parent: null, id: 4432 };
/** As fedmsg-era pagure did: namespace without fullname. */
export const SCM_PROJECT_FEDMSG = { name: "fedora-scm-requests", namespace: "releng", parent: null, id: 4432 };

/**
 * A message about a ticket, on the real envelope of its topic (pagure.issue.new's real fedmsg-era
 * message, or pagure.issue.edit's pagure-5 shape) with the queue's project and the ticket's own
 * fields put in.
 */
export function scmTicketMessage(t: TicketState): Envelope {
  const topic = t.topic ?? "pagure.issue.new";
  const base = t.modern ? pagureMessage("pagure.issue.edit") : pagureMessage(topic === "pagure.issue.comment.added" ? "pagure.issue.comment.added" : "pagure.issue.new");
  const body = structuredClone(base.body);
  const issue = { ...(body.issue as Record<string, unknown>) };
  issue.id = t.ticketId;
  issue.title = t.title;
  issue.content = t.content;
  issue.user = { fullname: t.author ?? "jdoe", name: t.author ?? "jdoe" };
  issue.status = t.status ?? "Open";
  issue.comments = (t.comments ?? []).map((c) => ({ comment: c.comment, date_created: "1700000000", edited_on: null, editor: null, id: c.id, parent: null, user: { fullname: c.user, name: c.user } }));
  if (t.modern) {
    issue.close_status = t.closeStatus ?? null;
    issue.closed_by = t.closedBy ? { fullname: t.closedBy, name: t.closedBy } : null;
    delete issue.boards;
  }
  body.issue = issue;
  body.project = t.project ?? (t.modern ? SCM_PROJECT_MODERN : SCM_PROJECT_FEDMSG);
  body.agent = t.agent ?? t.closedBy ?? t.author ?? "jdoe";
  if (topic === "pagure.issue.edit") body.fields = t.status && t.status !== "Open" ? ["status", "close_status"] : ["content"];
  return { id: t.id, topic: `${t.prefix ?? "io.pagure.prod."}${topic}`, headers: { "sent-at": "2026-05-01T12:00:00+00:00" }, body };
}

/** The shipped policies (policies/), and their example facts read as policies/facts.yaml names them. */
export function shippedApproval(): { set: PolicySet; facts: Facts } {
  const set = loadPolicies(SHIPPED, "data/gitops.git");
  const values: Partial<FactValues> = {};
  for (const source of factSources) {
    const location = set.facts?.spec.sources[source];
    if (location === undefined) continue;
    const parsed = parseFactFile(source, JSON.parse(readFileSync(path.join(SHIPPED, location), "utf8")) as unknown);
    if (!parsed.ok) throw new Error(`${location}: ${parsed.error}`);
    (values as Record<FactSource, unknown>)[source] = parsed.value;
  }
  return { set, facts: { values, status: [] } };
}

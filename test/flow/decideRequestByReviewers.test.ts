// decideRequestByPerson with review rules on both databases, without git: who may vote (group
// membership from the facts, unknown facts refuse), many reviewers at once (each counted once,
// the request approved once), and a package-scoped token.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFactFile, type Facts } from "../../src/domain/requests/facts.js";
import type { Principal } from "../../src/domain/token.js";
import { decideRequestByPerson, type DecideRequestDeps } from "../../src/flow/decideRequestByPerson.js";
import { loadPolicies } from "../../src/policy/loader.js";
import { RequestRepository, type NewRequest } from "../../src/store/requestRepository.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";
import { branchRequest } from "../support/requestApp.js";

const shipped = loadPolicies(path.resolve(__dirname, "../../policies"), "data/gitops.git");
const reviewers = ["r1", "r2", "r3", "r4", "r5", "r6"];

function factsWith(groups: Record<string, string[]> | undefined): Facts {
  if (!groups) return { values: {}, status: [] };
  const parsed = parseFactFile("groups", groups);
  if (!parsed.ok) throw new Error(parsed.error);
  return { values: { groups: parsed.value }, status: [] };
}

/** A large event waiting for three reviewers, as the recorder stores it. */
function largeEvent(): NewRequest {
  const base = branchRequest("x", "y");
  return {
    ...base,
    documents: [{ path: "events/flock-2026.yaml", kind: "EventRequest", blob: base.revision.replace(/a/g, "c"), content: "apiVersion: relengd/v1\nkind: EventRequest\nspec: {}\n" }],
    reasons: ["events/flock-2026.yaml: Flock 2026 is a large event: three reviewers approve it (policy/event-large)"],
    decisions: [{ policy: "event-large", path: "events/flock-2026.yaml", outcome: "review", reason: "Flock 2026 is a large event", conditions: [] }],
  };
}

const principal = (subject: string, packages?: string[]): Principal => ({ subject, role: "releaser", tokenId: `token-${subject}`, ...(packages ? { packages } : {}) });

describe.each(testProviders)("reviewers' votes on %s", (provider) => {
  let db: TestDatabase;
  let requests: RequestRepository;
  const decided: string[] = [];
  const deps = (groups: Record<string, string[]> | undefined): DecideRequestDeps => ({
    requests,
    approval: () => ({ policies: shipped.approvalPolicies, facts: factsWith(groups) }),
    onDecided: (r) => decided.push(`${r.id}:${r.status}`),
  });

  beforeAll(async () => {
    db = await freshDatabase(provider);
    requests = new RequestRepository(db.db);
  });
  afterAll(async () => db?.dispose());

  it("refuses every vote while group memberships are unknown, naming why", async () => {
    const { record } = await requests.record(largeEvent());
    const out = await decideRequestByPerson(deps(undefined), principal("r1"), { id: record.id, approve: true, reason: "ok" });
    expect(out).toMatchObject({ status: "forbidden", reason: expect.stringContaining("group memberships are unknown (no groups facts)") as string });
    expect(await requests.reviews(record.id)).toEqual([]);
  });

  it("refuses a package-scoped token: an event is about no package", async () => {
    const { record } = await requests.record(largeEvent());
    const out = await decideRequestByPerson(deps({ relenggroup: ["r1"] }), principal("r1", ["python-*"]), { id: record.id, approve: true, reason: "ok" });
    expect(out.status).toBe("forbidden");
  });

  it("counts six reviewers approving at once: approved exactly once, at the third, the rest refused as decided", async () => {
    const { record } = await requests.record(largeEvent());
    const d = deps({ relenggroup: reviewers });
    const outcomes = await Promise.all(reviewers.map((r) => decideRequestByPerson(d, principal(r), { id: record.id, approve: true, reason: `ok from ${r}` })));
    const statuses = outcomes.map((o) => (o.status === "decided" ? o.request.status : o.status)).sort();
    expect(statuses).toEqual(["approved", "needs-review", "needs-review", "not-decidable", "not-decidable", "not-decidable"]);
    expect(decided.filter((x) => x.startsWith(record.id))).toEqual([`${record.id}:approved`]);
    const votes = await requests.reviews(record.id);
    expect(votes).toHaveLength(3);
    expect(new Set(votes.map((v) => v.reviewer)).size).toBe(3);
    const stored = await requests.get(record.id);
    expect(stored?.status).toBe("approved");
    expect(stored?.reasons.filter((r) => r.startsWith("approval by user:"))).toHaveLength(3);
  });

  it("lets a reviewer change their vote: a later denial by the same member denies", async () => {
    const { record } = await requests.record(largeEvent());
    const d = deps({ relenggroup: reviewers });
    expect(await decideRequestByPerson(d, principal("r1"), { id: record.id, approve: true, reason: "ok" })).toMatchObject({ status: "decided", request: { status: "needs-review" } });
    expect(await decideRequestByPerson(d, principal("r1"), { id: record.id, approve: false, reason: "on second thought" })).toMatchObject({ status: "decided", request: { status: "denied", decidedBy: "user:r1" } });
    expect(await requests.reviews(record.id)).toMatchObject([{ reviewer: "r1", approve: false, reason: "on second thought" }]);
  });

  it("tells the status listener (relengd.request.* on the bus) when the reviewers decide, once", async () => {
    const told: string[] = [];
    const announcing = new RequestRepository(db.db, { changed: async (_tx, changed) => void told.push(...changed.map((r) => `${r.id}:${r.status}`)) });
    const { record } = await announcing.record(largeEvent());
    const d = { ...deps({ relenggroup: reviewers }), requests: announcing };
    for (const r of ["r1", "r2", "r3"]) await decideRequestByPerson(d, principal(r), { id: record.id, approve: true, reason: `ok from ${r}` });
    expect(told.filter((x) => x.startsWith(record.id))).toEqual([`${record.id}:needs-review`, `${record.id}:approved`]);
  });
});

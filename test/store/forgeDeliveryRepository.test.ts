// Forge deliveries in the store, on both databases: each stored once (by id or by body), and the
// forge accounts of a revision, pushers before pull request authors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForgeDeliveryRepository, type ForgeDeliveryRecord } from "../../src/store/forgeDeliveryRepository.js";
import { freshDatabase, testProviders, type TestDatabase } from "../support/database.js";

const SHA = "bffeb74224043ba2feb48d137756c8a9331c449a";
let n = 0;
function delivery(overrides: Partial<ForgeDeliveryRecord> = {}): ForgeDeliveryRecord {
  n += 1;
  return {
    deliveryId: `forgejo:${n}`,
    digest: n.toString(16).padStart(64, "0"),
    forge: "forgejo",
    event: "push",
    outcome: "recorded",
    reason: "jdoe pushed",
    repository: "gitops",
    branch: "requests/nethack-f44",
    revision: SHA,
    account: "jdoe",
    receivedAt: new Date("2026-12-01T10:00:00Z"),
    ...overrides,
  };
}

describe.each(testProviders)("forge deliveries on %s", (provider) => {
  let db: TestDatabase;
  let deliveries: ForgeDeliveryRepository;
  beforeAll(async () => {
    db = await freshDatabase(provider);
    deliveries = new ForgeDeliveryRepository(db.db);
  });
  afterAll(async () => db.dispose());

  it("stores a delivery once: its id or its body again is the first one", async () => {
    const first = delivery();
    expect(await deliveries.add(first)).toEqual({ stored: true });
    expect(await deliveries.add({ ...delivery(), deliveryId: first.deliveryId })).toEqual({ stored: false, previous: first });
    expect(await deliveries.add({ ...delivery(), digest: first.digest })).toEqual({ stored: false, previous: first });
    expect(await deliveries.count()).toBe(1);
    expect(await deliveries.get(first.deliveryId)).toEqual(first);
  });

  it("names the pushers of a revision, else the accounts that opened a pull request with it", async () => {
    const branch = "requests/two";
    await deliveries.add(delivery({ branch, event: "pull_request", account: "alice" }));
    await deliveries.add(delivery({ branch, event: "Merge Request Hook", account: "bob" }));
    expect(await deliveries.accounts("gitops", branch, SHA)).toEqual(["alice", "bob"]);
    await deliveries.add(delivery({ branch, event: "Push Hook", account: "jdoe" }));
    expect(await deliveries.accounts("gitops", branch, SHA)).toEqual(["jdoe"]);
    // Ignored deliveries, other revisions, branches and repositories say nothing of it.
    await deliveries.add(delivery({ branch, outcome: "ignored", account: "mallory" }));
    await deliveries.add(delivery({ branch, revision: "1".repeat(40), account: "mallory" }));
    await deliveries.add(delivery({ branch: "requests/other", account: "mallory" }));
    await deliveries.add(delivery({ branch, repository: "other", account: "mallory" }));
    expect(await deliveries.accounts("gitops", branch, SHA)).toEqual(["jdoe"]);
    expect(await deliveries.accounts("gitops", "requests/none", SHA)).toEqual([]);
  });
});

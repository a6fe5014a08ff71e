// Forge webhook deliveries that verified: each stored once (a replay finds it), and for a request
// branch the forge account that put a revision there — a verified author of that revision.
import type { Selectable } from "kysely";
import type { ForgeDelivery as ForgeDeliveryRow } from "./generated/kysely/types.js";
import { fromStamp, stamp, type Store } from "./store.js";

export type ForgeDeliveryOutcome = "recorded" | "ignored";

/** The forges' names of a push event (Forgejo/Gitea, GitLab); the others recorded are pull requests. */
const PUSH_EVENTS = new Set(["push", "Push Hook"]);

export interface ForgeDeliveryRecord {
  deliveryId: string;
  digest: string;
  forge: string;
  event: string;
  outcome: ForgeDeliveryOutcome;
  reason: string;
  repository: string | null;
  branch: string | null;
  revision: string | null;
  account: string | null;
  receivedAt: Date;
}

const toRecord = (row: Selectable<ForgeDeliveryRow>): ForgeDeliveryRecord => ({
  deliveryId: row.deliveryId,
  digest: row.digest,
  forge: row.forge,
  event: row.event,
  outcome: row.outcome as ForgeDeliveryOutcome,
  reason: row.reason,
  repository: row.repository,
  branch: row.branch,
  revision: row.revision,
  account: row.account,
  receivedAt: fromStamp(row.receivedAt),
});

export class ForgeDeliveryRepository {
  constructor(private readonly store: Store) {}

  /**
   * Stores a delivery; `stored` false when its id or its body was stored before (a replay, or
   * the forge sending it again): then `previous` is the delivery stored first.
   */
  async add(d: ForgeDeliveryRecord): Promise<{ stored: true } | { stored: false; previous: ForgeDeliveryRecord | null }> {
    return this.store.transaction(async (tx) => {
      const result = await tx
        .insertInto("ForgeDelivery")
        .values({ ...d, receivedAt: stamp(d.receivedAt) })
        // Either unique key (the id, the body's digest) makes it a duplicate.
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 1) return { stored: true };
      const previous = await tx
        .selectFrom("ForgeDelivery")
        .selectAll()
        .where((eb) => eb.or([eb("deliveryId", "=", d.deliveryId), eb("digest", "=", d.digest)]))
        .orderBy("seq", "asc")
        .executeTakeFirst();
      return { stored: false, previous: previous ? toRecord(previous) : null };
    });
  }

  /**
   * The forge accounts verified webhooks name as having put `revision` at the head of `branch`:
   * those that pushed it when a push was received (the pusher is who put the commit there),
   * else those that opened or updated a pull request with it.
   */
  async accounts(repository: string, branch: string, revision: string): Promise<string[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("ForgeDelivery")
        .select(["account", "event"])
        .where("repository", "=", repository)
        .where("branch", "=", branch)
        .where("revision", "=", revision)
        .where("outcome", "=", "recorded")
        .where("account", "is not", null)
        .orderBy("seq", "asc")
        .execute(),
    );
    const named = (list: typeof rows) => [...new Set(list.map((r) => r.account).filter((a): a is string => a !== null))].sort();
    const pushes = rows.filter((r) => PUSH_EVENTS.has(r.event));
    return named(pushes.length > 0 ? pushes : rows);
  }

  async get(deliveryId: string): Promise<ForgeDeliveryRecord | null> {
    const row = await this.store.read((tx) => tx.selectFrom("ForgeDelivery").selectAll().where("deliveryId", "=", deliveryId).executeTakeFirst());
    return row ? toRecord(row) : null;
  }

  async count(): Promise<number> {
    const row = await this.store.read((tx) => tx.selectFrom("ForgeDelivery").select((eb) => eb.fn.countAll<number | string>().as("n")).executeTakeFirst());
    return Number(row?.n ?? 0);
  }
}

// The Koji tag state observed on the bus (buildsys.tag / buildsys.untag): which builds each tag holds.
import type { KojiTagChange } from "../domain/busMapping.js";
import type { ObservedTagBuild } from "../domain/plan.js";
import type { TagHistoryEntry } from "../domain/brokenDeps.js";
import { chunksFor, flag, fromStamp, stamp, type Store, type Tx } from "./store.js";

export interface ObservedTagSummary {
  tag: string;
  /** Builds tagged now. */
  builds: number;
  packages: number;
  lastEventAt: Date;
}

export type ObserveOutcome =
  /** The row now says what the message says. */
  | { status: "applied"; wasTagged: boolean | null }
  /** The row already holds a newer change of this build in this tag; the message changes nothing. */
  | { status: "stale"; newer: { tagged: boolean; eventAt: Date; messageId: string } };

/**
 * Another transaction observed the same build in the same tag first (two replicas ingesting its
 * messages at once): the whole ingest is retried on fresh state.
 */
export class ConcurrentTagChange extends Error {}

export class KojiTagRepository {
  constructor(private readonly store: Store) {}

  /**
   * Applies a tag or untag of one build, unless a newer change of it was observed already
   * (messages may come out of order, a replay even more so). An untag of a build never seen
   * tagged is kept too, so that an older tag message arriving later does not bring it back.
   */
  async observeIn(tx: Tx, change: KojiTagChange, eventAt: Date, messageId: string, now: Date): Promise<ObserveOutcome> {
    const tagged = change.action === "tag";
    const existing = await tx.selectFrom("KojiTagBuild").selectAll().where("tag", "=", change.tag).where("nvr", "=", change.nvr).executeTakeFirst();
    if (existing && fromStamp(existing.eventAt).getTime() > eventAt.getTime()) {
      return { status: "stale", newer: { tagged: existing.tagged === 1, eventAt: fromStamp(existing.eventAt), messageId: existing.messageId } };
    }
    const data = { package: change.package, tagged: flag(tagged), eventAt: stamp(eventAt), messageId, observedAt: stamp(now), ...(change.buildId ? { buildId: change.buildId } : {}) };
    if (existing) {
      await tx.updateTable("KojiTagBuild").set(data).where("id", "=", existing.id).execute();
      return { status: "applied", wasTagged: existing.tagged === 1 };
    }
    const inserted = await tx
      .insertInto("KojiTagBuild")
      .values({ tag: change.tag, nvr: change.nvr, ...data })
      .onConflict((c) => c.columns(["tag", "nvr"]).doNothing())
      .executeTakeFirst();
    if (inserted.numInsertedOrUpdatedRows === 0n) throw new ConcurrentTagChange(`${change.nvr} in ${change.tag} was first observed concurrently`);
    return { status: "applied", wasTagged: null };
  }

  /**
   * The builds a tag holds now, by package and in tagging order; `latest` marks the last tagged
   * build of each package, the one Koji hands out for the tag.
   */
  async observed(tag: string, filter: { package?: string } = {}): Promise<ObservedTagBuild[]> {
    const rows = await this.store.read((tx) =>
      tx
        .selectFrom("KojiTagBuild")
        .selectAll()
        .where("tag", "=", tag)
        .where("tagged", "=", flag(true))
        .$if(filter.package !== undefined && filter.package !== "", (q) => q.where("package", "=", filter.package as string))
        .orderBy("package", "asc")
        .orderBy("eventAt", "asc")
        .orderBy("id", "asc")
        .execute(),
    );
    return rows.map((r, i) => ({
      tag: r.tag,
      package: r.package,
      nvr: r.nvr,
      buildId: r.buildId,
      taggedAt: fromStamp(r.eventAt).toISOString(),
      messageId: r.messageId,
      latest: rows[i + 1]?.package !== r.package,
    }));
  }

  /** Every tag with builds observed in it now. */
  async tags(): Promise<ObservedTagSummary[]> {
    const groups = await this.store.read((tx) =>
      tx
        .selectFrom("KojiTagBuild")
        .select((eb) => ["tag", "package", eb.fn.countAll<number>().as("builds"), eb.fn.max("eventAt").as("lastEventAt")])
        .where("tagged", "=", flag(true))
        .groupBy(["tag", "package"])
        .execute(),
    );
    const byTag = new Map<string, ObservedTagSummary>();
    for (const g of groups) {
      const s = byTag.get(g.tag) ?? { tag: g.tag, builds: 0, packages: 0, lastEventAt: new Date(0) };
      s.builds += Number(g.builds);
      s.packages += 1;
      const last = fromStamp(g.lastEventAt);
      if (last > s.lastEventAt) s.lastEventAt = last;
      byTag.set(g.tag, s);
    }
    return [...byTag.values()].sort((a, b) => a.tag.localeCompare(b.tag));
  }

  /** One build's row in a tag, tagged or not (what the last applied message said). */
  async find(tag: string, nvr: string): Promise<{ tagged: boolean; eventAt: Date; messageId: string; buildId: number | null } | null> {
    const row = await this.store.read((tx) => tx.selectFrom("KojiTagBuild").selectAll().where("tag", "=", tag).where("nvr", "=", nvr).executeTakeFirst());
    return row ? { tagged: row.tagged === 1, eventAt: fromStamp(row.eventAt), messageId: row.messageId, buildId: row.buildId } : null;
  }

  /**
   * Every build of `packages` ever observed in `tag`, tagged now or untagged since: who to blame
   * for a capability that went missing.
   */
  async history(tag: string, packages: readonly string[]): Promise<TagHistoryEntry[]> {
    const out: TagHistoryEntry[] = [];
    await this.store.read(async (tx) => {
      // Besides the names: the tag.
      for (const chunk of chunksFor([...new Set(packages)], 1, 1)) {
        const rows = await tx.selectFrom("KojiTagBuild").select(["package", "nvr", "tagged", "eventAt"]).where("tag", "=", tag).where("package", "in", chunk).execute();
        for (const r of rows) out.push({ package: r.package, nvr: r.nvr, tagged: r.tagged === 1, eventAt: fromStamp(r.eventAt) });
      }
    });
    return out;
  }
}

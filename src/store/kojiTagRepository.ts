// The Koji tag state observed on the bus (buildsys.tag / buildsys.untag): which builds each tag holds.
import type { KojiTagChange } from "../domain/busMapping.js";
import type { ObservedTagBuild } from "../domain/plan.js";
import type { Prisma, Tx } from "./database.js";

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

export class KojiTagRepository {
  constructor(private readonly prisma: Prisma) {}

  /**
   * Applies a tag or untag of one build, unless a newer change of it was observed already
   * (messages may come out of order, a replay even more so). An untag of a build never seen
   * tagged is kept too, so that an older tag message arriving later does not bring it back.
   */
  async observeIn(tx: Tx, change: KojiTagChange, eventAt: Date, messageId: string, now: Date): Promise<ObserveOutcome> {
    const tagged = change.action === "tag";
    const existing = await tx.kojiTagBuild.findUnique({ where: { tag_nvr: { tag: change.tag, nvr: change.nvr } } });
    if (existing && existing.eventAt.getTime() > eventAt.getTime()) {
      return { status: "stale", newer: { tagged: existing.tagged, eventAt: existing.eventAt, messageId: existing.messageId } };
    }
    const data = { package: change.package, tagged, eventAt, messageId, observedAt: now, ...(change.buildId ? { buildId: change.buildId } : {}) };
    if (existing) await tx.kojiTagBuild.update({ where: { id: existing.id }, data });
    // A concurrent first observation fails on (tag, nvr); the ingest is retried and sees it.
    else await tx.kojiTagBuild.create({ data: { tag: change.tag, nvr: change.nvr, ...data } });
    return { status: "applied", wasTagged: existing ? existing.tagged : null };
  }

  /**
   * The builds a tag holds now, by package and in tagging order; `latest` marks the last tagged
   * build of each package, the one Koji hands out for the tag.
   */
  async observed(tag: string, filter: { package?: string } = {}): Promise<ObservedTagBuild[]> {
    const rows = await this.prisma.kojiTagBuild.findMany({
      where: { tag, tagged: true, ...(filter.package ? { package: filter.package } : {}) },
      orderBy: [{ package: "asc" }, { eventAt: "asc" }, { id: "asc" }],
    });
    return rows.map((r, i) => ({
      tag: r.tag,
      package: r.package,
      nvr: r.nvr,
      buildId: r.buildId,
      taggedAt: r.eventAt.toISOString(),
      messageId: r.messageId,
      latest: rows[i + 1]?.package !== r.package,
    }));
  }

  /** Every tag with builds observed in it now. */
  async tags(): Promise<ObservedTagSummary[]> {
    const groups = await this.prisma.kojiTagBuild.groupBy({ by: ["tag", "package"], where: { tagged: true }, _count: { _all: true }, _max: { eventAt: true } });
    const byTag = new Map<string, ObservedTagSummary>();
    for (const g of groups) {
      const s = byTag.get(g.tag) ?? { tag: g.tag, builds: 0, packages: 0, lastEventAt: new Date(0) };
      s.builds += g._count._all;
      s.packages += 1;
      if (g._max.eventAt && g._max.eventAt > s.lastEventAt) s.lastEventAt = g._max.eventAt;
      byTag.set(g.tag, s);
    }
    return [...byTag.values()].sort((a, b) => a.tag.localeCompare(b.tag));
  }

  /** One build's row in a tag, tagged or not (what the last applied message said). */
  async find(tag: string, nvr: string): Promise<{ tagged: boolean; eventAt: Date; messageId: string; buildId: number | null } | null> {
    const row = await this.prisma.kojiTagBuild.findUnique({ where: { tag_nvr: { tag, nvr } } });
    return row ? { tagged: row.tagged, eventAt: row.eventAt, messageId: row.messageId, buildId: row.buildId } : null;
  }
}

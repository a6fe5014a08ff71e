// What the bus observes besides Koji tags and Bodhi updates (issue 17 T): dist-git branches seen
// created, Koji side tags seen, and the fedocal meetings the shadow repository mirrors. Written in
// the event's own transaction (ingestBusMessage), read by the facts and the API.
import type { DistgitBranchCreated, DistgitRepoCreated } from "../domain/distgitEvents.js";
import type { SideTagSeen } from "../domain/sideTagEvents.js";
import { ConcurrentShadowChange } from "./shadowRepository.js";
import { fromStamp, stamp, type Store, type Tx } from "./store.js";

export interface ObservedBranchRecord {
  namespace: string;
  repo: string;
  branch: string;
  rev: string | null;
  agent: string | null;
  messageId: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export interface ObservedSideTagRecord {
  name: string;
  baseTag: string;
  tagId: number;
  owner: string | null;
  packages: string[];
  messages: number;
  lastMessageId: string;
  lastTopic: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export const meetingStates = ["active", "deleted"] as const;
export type MeetingState = (typeof meetingStates)[number];

export interface ShadowMeetingRecord {
  meetingId: number;
  calendar: string;
  path: string;
  state: MeetingState;
  digest: string;
  lastSentAt: Date | null;
  lastMessageId: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

const orNull = (value: string | null): Date | null => (value === null ? null : fromStamp(value));

/** The most rows a facts snapshot reads: far above what years of branch creations make. */
export const MAX_OBSERVED_BRANCHES = 500_000;

export class ObservedRepository {
  constructor(private readonly store: Store) {}

  // --- dist-git branches ---

  /** Records a branch seen created; `known` when it was seen before (its first sighting stays). */
  async observeBranchIn(tx: Tx, branch: DistgitBranchCreated, at: Date, messageId: string): Promise<{ status: "new" } | { status: "known"; firstSeenAt: Date; messageId: string }> {
    const existing = await tx
      .selectFrom("ObservedBranch")
      .selectAll()
      .where("namespace", "=", branch.namespace)
      .where("repo", "=", branch.repo)
      .where("branch", "=", branch.branch)
      .executeTakeFirst();
    if (existing) {
      if (fromStamp(existing.lastSeenAt).getTime() < at.getTime()) {
        await tx.updateTable("ObservedBranch").set({ lastSeenAt: stamp(at), ...(branch.rev ? { rev: branch.rev } : {}) }).where("id", "=", existing.id).execute();
      }
      return { status: "known", firstSeenAt: fromStamp(existing.firstSeenAt), messageId: existing.messageId };
    }
    // A concurrent first insert violates the unique key: recordWith retries on fresh state.
    await tx
      .insertInto("ObservedBranch")
      .values({ namespace: branch.namespace, repo: branch.repo, branch: branch.branch, rev: branch.rev ?? null, agent: branch.agent ?? null, messageId, firstSeenAt: stamp(at), lastSeenAt: stamp(at) })
      .execute();
    return { status: "new" };
  }

  async branches(filter: { namespace?: string; repo?: string; limit?: number; newestFirst?: boolean } = {}): Promise<ObservedBranchRecord[]> {
    const rows = await this.store.read((tx) => {
      let q = tx.selectFrom("ObservedBranch").selectAll();
      if (filter.namespace) q = q.where("namespace", "=", filter.namespace);
      if (filter.repo) q = q.where("repo", "=", filter.repo);
      return q
        .orderBy("id", filter.newestFirst ? "desc" : "asc")
        .limit(filter.limit ?? MAX_OBSERVED_BRANCHES)
        .execute();
    });
    return rows.map(({ id: _id, ...r }) => ({ ...r, firstSeenAt: fromStamp(r.firstSeenAt), lastSeenAt: fromStamp(r.lastSeenAt) }));
  }

  /** Records a repository seen created; `known` when it was seen before. */
  async observeRepoIn(tx: Tx, repo: DistgitRepoCreated, at: Date, messageId: string): Promise<{ status: "new" } | { status: "known"; messageId: string }> {
    const existing = await tx.selectFrom("ObservedRepo").select("messageId").where("namespace", "=", repo.namespace).where("repo", "=", repo.repo).executeTakeFirst();
    if (existing) return { status: "known", messageId: existing.messageId };
    await tx
      .insertInto("ObservedRepo")
      .values({ namespace: repo.namespace, repo: repo.repo, agent: repo.agent ?? null, messageId, firstSeenAt: stamp(at) })
      .execute();
    return { status: "new" };
  }

  /** Repositories seen created (namespace, repo), oldest first. */
  async repos(limit = MAX_OBSERVED_BRANCHES): Promise<{ namespace: string; repo: string }[]> {
    return this.store.read((tx) => tx.selectFrom("ObservedRepo").select(["namespace", "repo"]).orderBy("id", "asc").limit(limit).execute());
  }

  /** A cheap change marker for the facts snapshot: how many branches and repositories, the newest ids. */
  async marker(): Promise<string> {
    const [b, r] = await this.store.read((tx) =>
      Promise.all(
        (["ObservedBranch", "ObservedRepo"] as const).map((table) =>
          tx
            .selectFrom(table)
            .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.max("id").as("last")])
            .executeTakeFirstOrThrow(),
        ),
      ),
    );
    return `${Number(b?.n)}/${String(b?.last)}/${Number(r?.n)}/${String(r?.last)}`;
  }

  // --- Koji side tags ---

  /** Records what a message shows of a side tag; returns the side tag after it. */
  async observeSideTagIn(tx: Tx, seen: SideTagSeen, at: Date, messageId: string, topic: string): Promise<{ created: boolean; record: ObservedSideTagRecord }> {
    const existing = await tx.selectFrom("ObservedSideTag").selectAll().where("name", "=", seen.name).executeTakeFirst();
    const packages = new Set<string>(existing ? (JSON.parse(existing.packages) as string[]) : []);
    const change = seen.packageChange;
    if (change && (change.action === "add" || change.action === "unblock" || change.action === "update")) packages.add(change.package);
    if (change && (change.action === "remove" || change.action === "block")) packages.delete(change.package);
    const sorted = [...packages].sort();
    const owner = seen.owner ?? existing?.owner ?? null;
    const firstSeenAt = existing && fromStamp(existing.firstSeenAt).getTime() < at.getTime() ? fromStamp(existing.firstSeenAt) : at;
    const lastSeenAt = existing && fromStamp(existing.lastSeenAt).getTime() > at.getTime() ? fromStamp(existing.lastSeenAt) : at;
    const data = { owner, packages: JSON.stringify(sorted), lastMessageId: messageId, lastTopic: topic, firstSeenAt: stamp(firstSeenAt), lastSeenAt: stamp(lastSeenAt) };
    if (existing) {
      // Read-modify-write of the package list: another replica's change in between makes this
      // one retry on fresh state (recordWith), so no package is lost.
      const result = await tx
        .updateTable("ObservedSideTag")
        .set({ ...data, messages: existing.messages + 1 })
        .where("name", "=", seen.name)
        .where("messages", "=", existing.messages)
        .executeTakeFirst();
      if (result.numUpdatedRows !== 1n) throw new ConcurrentShadowChange(`side tag ${seen.name} changed concurrently`);
    } else {
      await tx
        .insertInto("ObservedSideTag")
        .values({ name: seen.name, baseTag: seen.baseTag, tagId: seen.tagId, messages: 1, ...data })
        .execute();
    }
    return {
      created: !existing,
      record: { name: seen.name, baseTag: seen.baseTag, tagId: seen.tagId, owner, packages: sorted, messages: (existing?.messages ?? 0) + 1, lastMessageId: messageId, lastTopic: topic, firstSeenAt, lastSeenAt },
    };
  }

  async sideTags(filter: { owner?: string; baseTag?: string; limit?: number; newestFirst?: boolean } = {}): Promise<ObservedSideTagRecord[]> {
    const rows = await this.store.read((tx) => {
      let q = tx.selectFrom("ObservedSideTag").selectAll();
      if (filter.owner) q = q.where("owner", "=", filter.owner);
      if (filter.baseTag) q = q.where("baseTag", "=", filter.baseTag);
      return (filter.newestFirst ? q.orderBy("lastSeenAt", "desc").orderBy("name", "asc") : q.orderBy("name", "asc"))
        .limit(filter.limit ?? MAX_OBSERVED_BRANCHES)
        .execute();
    });
    return rows.map((r) => ({ ...r, packages: JSON.parse(r.packages) as string[], firstSeenAt: fromStamp(r.firstSeenAt), lastSeenAt: fromStamp(r.lastSeenAt) }));
  }

  // --- fedocal meetings mirrored on the shadow repository ---

  async meetingIn(tx: Tx, meetingId: number): Promise<ShadowMeetingRecord | null> {
    const row = await tx.selectFrom("ShadowMeeting").selectAll().where("meetingId", "=", meetingId).executeTakeFirst();
    return row
      ? { ...row, state: row.state as MeetingState, lastSentAt: orNull(row.lastSentAt), createdAt: fromStamp(row.createdAt), updatedAt: fromStamp(row.updatedAt), deletedAt: orNull(row.deletedAt) }
      : null;
  }

  async meeting(meetingId: number): Promise<ShadowMeetingRecord | null> {
    return this.store.read((tx) => this.meetingIn(tx, meetingId));
  }

  /** Stores a meeting's new state unless it changed since `previous` was read (ConcurrentShadowChange). */
  async saveMeetingIn(
    tx: Tx,
    previous: ShadowMeetingRecord | null,
    next: Pick<ShadowMeetingRecord, "meetingId" | "calendar" | "path" | "state" | "digest" | "lastSentAt" | "lastMessageId" | "deletedAt">,
    now: Date,
  ): Promise<void> {
    const data = {
      calendar: next.calendar,
      path: next.path,
      state: next.state,
      digest: next.digest,
      lastSentAt: next.lastSentAt ? stamp(next.lastSentAt) : null,
      lastMessageId: next.lastMessageId,
      deletedAt: next.deletedAt ? stamp(next.deletedAt) : null,
      updatedAt: stamp(now),
    };
    if (!previous) {
      const inserted = await tx
        .insertInto("ShadowMeeting")
        .values({ meetingId: next.meetingId, ...data, version: 0, createdAt: stamp(now) })
        .onConflict((c) => c.column("meetingId").doNothing())
        .executeTakeFirst();
      if (inserted.numInsertedOrUpdatedRows === 0n) throw new ConcurrentShadowChange(`meeting ${next.meetingId} was first stored concurrently`);
      return;
    }
    const result = await tx
      .updateTable("ShadowMeeting")
      .set({ ...data, version: previous.version + 1 })
      .where("meetingId", "=", next.meetingId)
      .where("version", "=", previous.version)
      .executeTakeFirst();
    if (result.numUpdatedRows !== 1n) throw new ConcurrentShadowChange(`meeting ${next.meetingId} changed concurrently`);
  }
}

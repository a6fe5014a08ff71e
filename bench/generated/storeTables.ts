import type { ColumnType } from "kysely";
export type Generated<T> = T extends ColumnType<infer S, infer I, infer U>
  ? ColumnType<S, I | undefined, U>
  : ColumnType<T, T | undefined, T>;
export type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type Artifact = {
    /**
     * Insertion order; the keyset for pagination (newest first).
     */
    seq: Generated<number>;
    id: string;
    package: string;
    release: string;
    sourceRepo: string;
    sourceSha: string;
    sourceBranch: string | null;
    sourceEvent: string;
    createdAt: Date | string;
    bodyHash: string;
    body: string;
};
export type ArtifactBuild = {
    id: Generated<number>;
    artifactId: string;
    nvr: string;
    name: string;
};
export type ArtifactResult = {
    id: Generated<number>;
    artifactId: string;
    testcase: string;
    /**
     * "" when the result has no reference URL, so the unique key also covers that case.
     */
    refUrl: Generated<string>;
    outcome: string;
    scenario: string | null;
    note: string | null;
    /**
     * When the result was submitted, by its own account (the item's submittedAt, a bus message's
     * sent-at); null: it has none, and when it arrived (updatedAt) orders it instead.
     */
    submittedAt: Date | string | null;
    createdAt: Date | string;
    updatedAt: Date | string;
};
export type BusEvent = {
    /**
     * Arrival order; the keyset for pagination (newest first).
     */
    seq: Generated<number>;
    /**
     * The fedora-messaging id; for a delivery without a usable one, sha256:<hex> of its bytes.
     */
    messageId: string;
    /**
     * The topic as published (the routing key), prefix included.
     */
    topic: string;
    /**
     * The topic without its org.fedoraproject.prod.-style prefix: what filters and metrics use.
     */
    bareTopic: string;
    /**
     * accepted | waiting | deferred | ignored | rejected
     */
    status: string;
    /**
     * What was done or why not, in words (for rejected: the failing field first).
     */
    reason: string;
    /**
     * The artifact the message created or appended results to (the first of them).
     */
    artifactId: string | null;
    /**
     * The build a result is about: a waiting result is appended once an artifact carries it.
     */
    nvr: string | null;
    /**
     * Deliveries of this message id; every one after the first was a duplicate, not applied.
     */
    deliveries: Generated<number>;
    receivedAt: Date | string;
    updatedAt: Date | string;
    /**
     * true: `envelope` is the envelope's JSON form; false: the raw content that did not parse.
     */
    parsed: number;
    envelope: string;
};
export type BusOutbox = {
    seq: Generated<number>;
    messageId: string;
    /**
     * <release id>/<status>: one message per release and outcome.
     */
    key: string;
    releaseSeq: number;
    topic: string;
    envelope: string;
    createdAt: Date | string;
    publishedAt: Date | string | null;
    attempts: Generated<number>;
};
export type Decision = {
    id: Generated<number>;
    artifactId: string;
    policy: string;
    /**
     * artifact | results | schedule
     */
    event: string;
    fired: number;
    /**
     * Skipped for now, but a later result, the end of a freeze or a lifted hold may change it.
     */
    waiting: Generated<number>;
    releaseId: string | null;
    reason: string | null;
    createdAt: Date | string;
};
export type Hold = {
    id: string;
    environment: string;
    package: string;
    reason: string;
    createdBy: string;
    createdAt: Date | string;
    /**
     * The rollback release that placed it, if any.
     */
    releaseId: string | null;
};
export type KojiTagBuild = {
    id: Generated<number>;
    tag: string;
    package: string;
    nvr: string;
    buildId: number | null;
    tagged: number;
    /**
     * When Koji (un)tagged it (the message's sent-at, else when it arrived): orders builds, the
     * last tagged being the tag's latest of its package; an older message never undoes a newer one.
     */
    eventAt: Date | string;
    /**
     * The message whose change is the row's current state.
     */
    messageId: string;
    observedAt: Date | string;
};
export type Release = {
    /**
     * Queue order: the writer drains each (repository, branch) by seq.
     */
    seq: Generated<number>;
    id: string;
    artifactId: string;
    environment: string;
    repository: string;
    branch: string;
    package: string;
    /**
     * policy/<name> | user:<subject> | rollback | mirror
     */
    trigger: string;
    createdBy: string;
    force: Generated<number>;
    forceReason: string | null;
    /**
     * Written together with the other bulk releases queued beside it, in one commit (mass rebuilds).
     */
    bulk: Generated<number>;
    /**
     * queued | committed | pushed | failed | superseded | blocked
     */
    status: string;
    /**
     * Why it was blocked or superseded, in words.
     */
    reason: string | null;
    supersededBy: string | null;
    error: string | null;
    attempts: Generated<number>;
    nextAttemptAt: Date | string | null;
    commitSha: string | null;
    createdAt: Date | string;
    updatedAt: Date | string;
    pushedAt: Date | string | null;
};
export type RevokedToken = {
    jti: string;
    revokedAt: Date | string;
    /**
     * When the token would have expired anyway; rows past it can be pruned.
     */
    expiresAt: Date | string | null;
};
export type ScheduleRun = {
    id: Generated<number>;
    policy: string;
    slot: Date | string;
    startedAt: Date | string;
    finishedAt: Date | string | null;
    /**
     * What the run did, in words (candidates, fired, skipped), or its error.
     */
    summary: string | null;
};
export type ShadowChange = {
    seq: Generated<number>;
    messageId: string;
    topic: string;
    /**
     * update | merge | close | compose
     */
    kind: string;
    /**
     * The branch the commit goes on: mr/<alias>, or main (composes). A merge then merges it into main.
     */
    branch: string;
    alias: string | null;
    path: string;
    content: string;
    message: string;
    /**
     * The merge commit's message (kind merge).
     */
    mergeMessage: string | null;
    /**
     * queued | written
     */
    status: string;
    commitSha: string | null;
    mergeSha: string | null;
    attempts: Generated<number>;
    error: string | null;
    nextAttemptAt: Date | string | null;
    createdAt: Date | string;
    writtenAt: Date | string | null;
};
export type ShadowUpdate = {
    alias: string;
    /**
     * The Bodhi release (F44, EPEL-9) and the document's path, fixed when the update was first seen.
     */
    release: string;
    path: string;
    /**
     * open | merged | closed
     */
    state: string;
    /**
     * The BodhiUpdate spec as last mirrored (JSON): the next message's fields are merged onto it.
     */
    spec: string;
    /**
     * Where the document does not fit the relengd/v1 schema (in words), or null.
     */
    problems: string | null;
    /**
     * obsolete | revoke | unpush: why the merge request was closed.
     */
    closedReason: string | null;
    /**
     * Bumped on every change: two replicas mirroring messages of one update cannot both win.
     */
    version: Generated<number>;
    lastMessageId: string;
    createdAt: Date | string;
    updatedAt: Date | string;
    mergedAt: Date | string | null;
    closedAt: Date | string | null;
};
export type Waiver = {
    /**
     * Arrival order: breaks ties between waivers of the same time.
     */
    seq: Generated<number>;
    id: string;
    /**
     * API waivers: the artifact it was made on.
     */
    artifactId: string | null;
    /**
     * Bus waivers: the build (WaiverDB's subject_identifier of a koji_build).
     */
    nvr: string | null;
    testcase: string;
    /**
     * null: every scenario of the testcase.
     */
    scenario: string | null;
    /**
     * false: revokes the waiver of the same (testcase, scenario).
     */
    waived: number;
    comment: string;
    /**
     * Who waived: the token's subject, or WaiverDB's username.
     */
    username: string;
    /**
     * The environments whose releases it acts on (a JSON list of globs: the environment scope of
     * the token that made it); null: every environment.
     */
    environments: string | null;
    /**
     * api | waiverdb
     */
    source: string;
    /**
     * The bus message it came from: a redelivery cannot add it twice.
     */
    messageId: string | null;
    /**
     * When it was made by its own account (a message's sent-at), else when it arrived.
     */
    waivedAt: Date | string;
    createdAt: Date | string;
};
export type DB = {
    Artifact: Artifact;
    ArtifactBuild: ArtifactBuild;
    ArtifactResult: ArtifactResult;
    BusEvent: BusEvent;
    BusOutbox: BusOutbox;
    Decision: Decision;
    Hold: Hold;
    KojiTagBuild: KojiTagBuild;
    Release: Release;
    RevokedToken: RevokedToken;
    ScheduleRun: ScheduleRun;
    ShadowChange: ShadowChange;
    ShadowUpdate: ShadowUpdate;
    Waiver: Waiver;
};

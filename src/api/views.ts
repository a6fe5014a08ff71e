// How stored releases and holds are shown: their schemas (the Release and Hold components of the
// OpenAPI document) and the conversion from store records. Several resources return them: a
// release, a rollback (its release and hold), a hold, a release refused by a hold.
import { z } from "zod";
import { releaseStatuses } from "../domain/release.js";
import { wellFormedString } from "../domain/text.js";
import type { HoldRecord, ReleaseRecord } from "../store/releaseRepository.js";

const timestamp = z.iso.datetime();

export const releaseSchema = z
  .strictObject({
    id: wellFormedString(),
    artifactId: wellFormedString(),
    environment: wellFormedString(),
    repository: wellFormedString(),
    branch: wellFormedString(),
    package: wellFormedString(),
    trigger: wellFormedString().meta({ description: "policy/<name>, user:<subject>, rollback or mirror" }),
    createdBy: wellFormedString(),
    force: z.boolean(),
    forceReason: wellFormedString().nullable(),
    bulk: z.boolean(),
    status: z.enum(releaseStatuses),
    reason: wellFormedString().nullable().meta({ description: "Why it was blocked or superseded" }),
    supersededBy: wellFormedString().nullable(),
    error: wellFormedString().nullable().meta({ description: "The last write or push error" }),
    attempts: z.number().int(),
    nextAttemptAt: timestamp.nullable(),
    commitSha: wellFormedString().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    pushedAt: timestamp.nullable(),
  })
  .meta({ id: "Release", description: "A request to put one artifact into one environment" });

export const holdSchema = z
  .strictObject({
    id: wellFormedString(),
    environment: wellFormedString(),
    package: wellFormedString(),
    reason: wellFormedString(),
    createdBy: wellFormedString(),
    createdAt: timestamp,
    releaseId: wellFormedString().nullable().meta({ description: "The rollback that placed it" }),
  })
  .meta({ id: "Hold", description: "Stops policies from releasing a package to an environment until lifted" });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function releaseView(r: ReleaseRecord) {
  const { seq: _seq, ...rest } = r;
  return { ...rest, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), pushedAt: iso(r.pushedAt), nextAttemptAt: iso(r.nextAttemptAt) };
}

export function holdView(h: HoldRecord) {
  return { ...h, createdAt: h.createdAt.toISOString() };
}

// What a merged request implies: the operations on dist-git and Koji that carry it out, said the
// way the tools that do them say them. Nothing here runs them; `relengd plan` lists them.
import { calendarEntryPlaceOf } from "./calendarEntry.js";
import { parseProposedText, type ProposedDocument, type ProposedPlace } from "./index.js";
import { repoRequestBugId } from "./repoRequest.js";
import { sideTagPlaceOf } from "./sideTag.js";

export type RequestOperationKind =
  | "create-branch"
  | "create-repo"
  | "add-sidetag"
  | "add-packages"
  | "add-tag"
  | "add-target"
  | "create-bodhi-release"
  | "mass-rebuild"
  | "tag-builds"
  | "create-group"
  | "add-members"
  | "grant-acl"
  | "plan-event"
  | "add-meeting";

/** A shell word: as is when it is plain, else in single quotes (the texts are one line by their schemas). */
function word(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface RequestOperation {
  kind: RequestOperationKind;
  /** One line for people: `create branch rpms/nethack f44`, `koji add-sidetag f44-build --debuginfo`. */
  text: string;
}

/**
 * The operations a merged proposed document implies, in the order they are done. A SideTag's
 * owner comes from its path (`place`): Koji makes the owner the one who runs add-sidetag.
 */
export function operationsOf(doc: ProposedDocument, place?: ProposedPlace): RequestOperation[] {
  switch (doc.kind) {
    case "BranchRequest": {
      const { namespace, repo, branch, create_git_branch, sls } = doc.spec;
      const details = [
        // fedpkg's --no-git-branch: the branch's service levels are recorded, the git branch is not made.
        ...(create_git_branch ? [] : ["no git branch"]),
        ...Object.entries(sls ?? {}).map(([level, eol]) => `${level} until ${eol}`),
      ];
      return [{ kind: "create-branch", text: `create branch ${namespace}/${repo} ${branch}${details.length > 0 ? ` (${details.join(", ")})` : ""}` }];
    }
    case "RepoRequest": {
      const { namespace, repo, branch, monitor, exception, initial_commit } = doc.spec;
      const bug = repoRequestBugId(doc.spec);
      const details = [branch, bug === undefined ? (exception ? "exception, no review bug" : "no review bug") : `bug ${bug}`, monitor, ...(initial_commit ? ["initial commit"] : [])];
      return [{ kind: "create-repo", text: `create repo ${namespace}/${repo} (${details.join(", ")})` }];
    }
    case "SideTag": {
      const { base_tag, debuginfo, suffix, packages } = doc.spec;
      const sideTagPlace = place && "owner" in place ? place : undefined;
      const owner = sideTagPlace ? ` (as ${sideTagPlace.owner})` : "";
      // Koji names the tag when it makes it ({basetag}-side-{tag_id}[-suffix]); the id is not known before.
      const name = `${base_tag}-side-<id>${suffix ? `-${suffix}` : ""}`;
      return [
        { kind: "add-sidetag", text: `koji add-sidetag ${base_tag}${debuginfo ? " --debuginfo" : ""}${suffix ? ` --suffix ${suffix}` : ""}${owner}` },
        // Fedora's package_list policy lets the side tag's owner add packages the base tag does not list.
        { kind: "add-packages", text: `koji add-pkg --owner ${sideTagPlace?.owner ?? "<owner>"} ${name} ${packages.join(" ")}` },
      ];
    }
    case "MassBranch":
      return massBranchOperations(doc.spec);
    case "MassRebuild": {
      const { buildtag, target, targets, desttag, epoch, tracking_bug, pkg_skip_list, wikipage } = doc.spec;
      const skipped = pkg_skip_list.length === 0 ? "" : `, skipping ${pkg_skip_list.length} package${pkg_skip_list.length === 1 ? "" : "s"}: ${pkg_skip_list.join(" ")}`;
      // The rebuild SOP: a rebuild tag inheriting the release, a target building from the release's buildroot into it.
      return [
        { kind: "add-tag", text: `koji add-tag --parent ${desttag} ${buildtag}` },
        { kind: "add-target", text: `koji add-target ${target} ${desttag}-build ${buildtag}` },
        { kind: "mass-rebuild", text: `mass-rebuild.py: rebuild every package of ${desttag} not built since ${epoch} on ${targets.join(", ")} (tracking bug ${String(tracking_bug)}, ${wikipage}${skipped})` },
        { kind: "tag-builds", text: `koji tag-build ${desttag} <the builds of ${buildtag}>` },
      ];
    }
    case "SigRequest": {
      const { group, description, members, acls } = doc.spec;
      return [
        { kind: "create-group", text: `create FAS group ${group} (${description})` },
        { kind: "add-members", text: `add to ${group}: ${members.join(" ")}` },
        ...acls.map((rule): RequestOperation => ({ kind: "grant-acl", text: `give @${group} ${rule.acl} on ${rule.namespace}/${rule.match.join(" ")}` })),
      ];
    }
    case "EventRequest": {
      const { name, dates, location, owner, size, budget } = doc.spec;
      const when = dates.start === dates.end ? dates.start : `${dates.start} to ${dates.end}`;
      return [{ kind: "plan-event", text: `event ${name} (${size}, ${when}, ${location}, owner ${owner}, budget ${budget.amount} ${budget.currency})` }];
    }
    case "CalendarEntry": {
      const s = doc.spec;
      const calendar = place && "calendar" in place ? place.calendar : "<calendar>";
      const days = s.meeting_date_end !== undefined && s.meeting_date_end !== s.meeting_date ? `${s.meeting_date} to ${s.meeting_date_end}` : s.meeting_date;
      return [{ kind: "add-meeting", text: `fedocal: add ${s.meeting_name} to ${calendar} on ${days} ${s.meeting_time_start}-${s.meeting_time_stop} ${s.meeting_timezone} (managers ${s.meeting_manager.join(", ")})` }];
    }
  }
}

/**
 * A branched release: the Koji tags and targets releng's make-koji-release-tags makes for it
 * (each updates tag on the release's stable tag, the build tag on the override tag, the release
 * and -candidate targets building into the candidate tag), then the Bodhi release of the
 * mass-branching SOP.
 */
function massBranchOperations(spec: Extract<ProposedDocument, { kind: "MassBranch" }>["spec"]): RequestOperation[] {
  const f = `f${String(spec.version)}`;
  const build = `${f}-build`;
  const tags: [string, string][] = [
    [spec.stable_tag, spec.dist_tag],
    [spec.override_tag, spec.stable_tag],
    [spec.candidate_tag, spec.stable_tag],
    [spec.testing_tag, spec.stable_tag],
    [spec.pending_testing_tag, spec.testing_tag],
    [spec.pending_stable_tag, spec.stable_tag],
    [spec.pending_signing_tag, spec.stable_tag],
    [build, spec.override_tag],
  ];
  const bodhi = [
    "bodhi releases create",
    `--name ${word(spec.name)}`,
    `--long-name ${word(spec.long_name)}`,
    `--id-prefix ${word(spec.id_prefix)}`,
    `--version ${String(spec.version)}`,
    `--branch ${spec.branch}`,
    `--dist-tag ${spec.dist_tag}`,
    `--stable-tag ${spec.stable_tag}`,
    `--testing-tag ${spec.testing_tag}`,
    `--candidate-tag ${spec.candidate_tag}`,
    `--pending-stable-tag ${spec.pending_stable_tag}`,
    `--pending-testing-tag ${spec.pending_testing_tag}`,
    `--pending-signing-tag ${spec.pending_signing_tag}`,
    `--override-tag ${spec.override_tag}`,
    `--state ${spec.state}`,
    spec.create_automatic_updates ? "--create-automatic-updates" : "--not-create-automatic-updates",
  ].join(" ");
  return [
    ...tags.map(([tag, parent]): RequestOperation => ({ kind: "add-tag", text: `koji add-tag --parent ${parent} ${tag}` })),
    { kind: "add-target", text: `koji add-target ${f} ${build} ${spec.candidate_tag}` },
    { kind: "add-target", text: `koji add-target ${f}-candidate ${build} ${spec.candidate_tag}` },
    { kind: "create-bodhi-release", text: bodhi },
  ];
}

/** One operation of a proposed document on a branch, with the file that implies it. */
export interface PlannedRequestOperation extends RequestOperation {
  path: string;
  requestKind: ProposedDocument["kind"];
}

/**
 * The operations the proposed documents of a branch imply (`files`: repo-relative path → text),
 * in path order, and the files that are not valid requests as `path:line: /field message`.
 */
export function operationsOfFiles(files: Iterable<readonly [string, string]>): { operations: PlannedRequestOperation[]; problems: string[] } {
  const operations: PlannedRequestOperation[] = [];
  const problems: string[] = [];
  for (const [path, text] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const parsed = parseProposedText(text, path);
    if (!parsed.ok) {
      problems.push(...parsed.issues.map((i) => `${path}:${i.line ?? 1}: ${i.path} ${i.message}`));
      continue;
    }
    const doc = parsed.value;
    const place = doc.kind === "SideTag" ? sideTagPlaceOf(path) : doc.kind === "CalendarEntry" ? calendarEntryPlaceOf(path) : undefined;
    for (const op of operationsOf(doc, place)) operations.push({ ...op, path, requestKind: doc.kind });
  }
  return { operations, problems };
}

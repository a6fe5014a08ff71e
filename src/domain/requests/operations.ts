// What a merged request implies: the operations on dist-git and Koji that carry it out, said the
// way the tools that do them say them. Nothing here runs them; `relengd plan` lists them.
import { parseProposedText, type ProposedDocument } from "./index.js";
import { repoRequestBugId } from "./repoRequest.js";
import { sideTagPlaceOf, type SideTagPlace } from "./sideTag.js";

export type RequestOperationKind = "create-branch" | "create-repo" | "add-sidetag" | "add-packages";

export interface RequestOperation {
  kind: RequestOperationKind;
  /** One line for people: `create branch rpms/nethack f44`, `koji add-sidetag f44-build --debuginfo`. */
  text: string;
}

/**
 * The operations a merged proposed document implies, in the order they are done. A SideTag's
 * owner comes from its path (`place`): Koji makes the owner the one who runs add-sidetag.
 */
export function operationsOf(doc: ProposedDocument, place?: SideTagPlace): RequestOperation[] {
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
      const owner = place ? ` (as ${place.owner})` : "";
      // Koji names the tag when it makes it ({basetag}-side-{tag_id}[-suffix]); the id is not known before.
      const name = `${base_tag}-side-<id>${suffix ? `-${suffix}` : ""}`;
      return [
        { kind: "add-sidetag", text: `koji add-sidetag ${base_tag}${debuginfo ? " --debuginfo" : ""}${suffix ? ` --suffix ${suffix}` : ""}${owner}` },
        // Fedora's package_list policy lets the side tag's owner add packages the base tag does not list.
        { kind: "add-packages", text: `koji add-pkg --owner ${place?.owner ?? "<owner>"} ${name} ${packages.join(" ")}` },
      ];
    }
  }
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
    const place = doc.kind === "SideTag" ? sideTagPlaceOf(path) : undefined;
    for (const op of operationsOf(doc, place)) operations.push({ ...op, path, requestKind: doc.kind });
  }
  return { operations, problems };
}

// The README of the GitOps repository relengd creates: its first commit, naming the layout, so a
// person who clones it knows where each document goes and how to ask for something.

export const GITOPS_ROOT_MESSAGE = "GitOps repository: layout\n";

export const GITOPS_README = `# GitOps repository written by relengd

Every file here is a document of the relengd/v1 schema (\`relengd schema export DIR\` writes the
JSON Schemas; \`relengd lint .\` checks a checkout). The history is the audit log: each commit of
relengd carries \`Relengd-*\` trailers saying why it was made.

## Written by relengd (releases)

| path | kind | meaning |
|---|---|---|
| \`koji/tags/<tag>/<package>.yaml\` | KojiTag | \`<package>\` in \`<tag>\` is this build |
| \`bodhi/<release>/<key>.yaml\` | BodhiUpdate | a Bodhi update to create or edit |
| \`composes/<release>/<label-or-date>.yaml\` | ComposeRequest | a compose to run |

## Proposed by people (requests)

| path | kind | what it asks for |
|---|---|---|
| \`distgit/branches/<namespace>/<repo>/<branch>.yaml\` | BranchRequest | a new dist-git branch (\`fedpkg request-branch\`) |
| \`distgit/repos/<namespace>/<repo>.yaml\` | RepoRequest | a new package repository (\`fedpkg request-repo\`) |
| \`koji/sidetags/<owner>/<label>.yaml\` | SideTag | a Koji side tag (\`koji add-sidetag\`) |
| \`releases/f<N>/branching.yaml\` | MassBranch | branching Fedora N from rawhide (Koji tags and targets, \`bodhi releases create\`) |
| \`rebuilds/f<N>.yaml\` | MassRebuild | a mass rebuild (an entry of releng's \`massrebuildsinfo.py\`) |
| \`sigs/<group>.yaml\` | SigRequest | a Special Interest Group: its FAS group, members and dist-git access |
| \`events/<slug>.yaml\` | EventRequest | a Fedora event and its budget |
| \`calendar/<calendar>/<date>-<slug>.yaml\` | CalendarEntry | a meeting on a fedocal calendar |

To ask: commit one of these on a branch named \`requests/<anything>\` and push it here, or run
\`relengd request submit FILE\`. relengd lints it, judges it with the approval policies and either
merges it (a merge commit with \`Relengd-Request-Id\`, \`Relengd-Request-Kind\` and
\`Relengd-Approved-By\` trailers), leaves it for a person to review, or denies it; \`relengd request
show ID\` says why. Sign your commits with an SSH key listed for you in relengd's facts to be
trusted as their author. Never push to the main branch directly: such changes are reported as
unreviewed.
`;

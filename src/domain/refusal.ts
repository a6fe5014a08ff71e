// The machine-readable codes of business refusals (409 and 422): a client branches on `code`, a person reads `detail`.

/**
 * Every code a refusal may carry, with what it means; the OpenAPI document lists them. A new
 * refusal adds its code here (kebab-case, what is wrong rather than what to do).
 */
export const REFUSAL_CODES = {
  "unknown-artifact": "No artifact with that id (a release or rollback names it)",
  "repository-undeclared": "The environment names a repository that is not declared",
  "artifact-incomplete": "The artifact lacks what the environment's kind of request needs (a koji-build, a compose id)",
  "package-mismatch": "The artifact named is of another package",
  "nothing-to-roll-back-to": "Nothing, or nothing older, of the package was pushed to the environment",
  "rollback-not-queued": "The rollback's release and hold could not be queued together",
  "frozen": "The environment is frozen; force with a reason",
  "held": "The (environment, package) is held; lift the hold or force with a reason",
  "already-released": "The artifact was already released to the environment; force to release it again",
  "already-held": "The (environment, package) is already held",
  "not-failed": "Only a failed release, or one its repoclosure preflight blocked, can be retried",
  "preflight-not-applicable": "A preflight was given for an environment that is not a ComposeRequest environment",
  "artifact-immutable": "An artifact with that id exists with another body",
  "too-many-results": "The artifact would hold more results than allowed",
  "message-rejected": "The bus message was recorded as rejected (`event` says why)",
  "policies-invalid": "A policy or environment file is broken; the previous set stays in force",
  "environment-undeclared": "The release's environment is no longer declared",
  "document-unrenderable": "The release's request document cannot be rendered from what is stored",
  "build-of-other-package": "An artifact with one koji-build is that build's package (ingest rule)",
  "side-tag-required": "An artifact with several koji-builds is a side-tag update: every build names the same side tag (ingest rule)",
  "dist-tag-mismatch": "A build's dist tag does not fit the artifact's release (ingest rule)",
  "request-invalid": "A proposed document does not lint; `problems` lists each as `path:line: /field message`",
  "request-not-decidable": "The request is not in a status a person can decide from (approve: needs-review; deny: proposed, approved or needs-review)",
} as const satisfies Record<string, string>;

export type RefusalCode = keyof typeof REFUSAL_CODES;

export const refusalCodes = Object.keys(REFUSAL_CODES) as [RefusalCode, ...RefusalCode[]];

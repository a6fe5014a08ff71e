// Use case: find the stored artifacts that break the ingest rules (stored before the rules
// existed), page by page, for `relengd check artifacts`.
import { artifactRuleViolations, type ArtifactRuleOptions, type RuleViolation } from "../domain/artifactRules.js";
import type { ArtifactRepository } from "../store/artifactRepository.js";

export interface BreakingArtifact {
  id: string;
  package: string;
  release: string;
  createdAt: Date;
  violations: RuleViolation[];
}

export interface ArtifactCheckReport {
  checked: number;
  breaking: number;
}

export async function checkArtifacts(
  deps: { artifacts: ArtifactRepository; rules: ArtifactRuleOptions },
  /** Told of each artifact that breaks a rule, newest first, as it is found. */
  onBreaking: (artifact: BreakingArtifact) => void,
  pageSize = 500,
): Promise<ArtifactCheckReport> {
  const report: ArtifactCheckReport = { checked: 0, breaking: 0 };
  let cursor: string | undefined;
  do {
    const page = await deps.artifacts.list({ limit: pageSize, ...(cursor ? { cursor } : {}) });
    for (const stored of page.items) {
      report.checked++;
      const violations = artifactRuleViolations(stored.artifact, deps.rules);
      if (violations.length === 0) continue;
      report.breaking++;
      onBreaking({ id: stored.artifact.id, package: stored.artifact.package, release: stored.artifact.release, createdAt: stored.createdAt, violations });
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return report;
}

export function describeCheck(report: ArtifactCheckReport): string {
  return report.breaking === 0
    ? `checked ${report.checked} artifact(s); all follow the ingest rules`
    : `checked ${report.checked} artifact(s); ${report.breaking} break the ingest rules and will not be released`;
}

// Environments and repositories (policies/environments.yaml): where each kind of request goes.
import { z } from "zod";
import { wellFormedString } from "./text.js";
import { KOJI_TAG_PATTERN, RELEASE_PATTERN } from "./artifact.js";
import { BODHI_RELEASE_PATTERN, bodhiRequests, bodhiSeverities, bodhiUpdateTypes } from "./documents/bodhiUpdate.js";
import { composeRequestTypes } from "./documents/composeRequest.js";
import { API_VERSION, ENVIRONMENT_NAME_PATTERN, parseYaml, validateDocument, type DocumentParse } from "./documents/envelope.js";
import { freezeSchema } from "./freeze.js";
import { repoclosurePreflightSchema } from "./repoclosure.js";

const name = wellFormedString().regex(ENVIRONMENT_NAME_PATTERN, "must be lowercase letters, digits and ._-");

export const repositorySchema = z.strictObject({
  name,
  /** A path, file://, ssh:// or https:// URL, or user@host:path. Omitted: the server's RELENGD_GITOPS_REPO. */
  url: wellFormedString()
    .min(1)
    .max(1024)
    .refine((u) => !/[\s\0]/.test(u) && !u.startsWith("-"), "must be a path or git URL without spaces")
    .optional(),
  branch: wellFormedString().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/, "must be a branch name").refine((b) => !b.includes("..") && !b.endsWith(".lock"), "must be a valid branch name").default("main"),
  author: z
    .strictObject({ name: wellFormedString().min(1).max(100), email: wellFormedString().regex(/^[^\s<>@]+@[^\s<>@]+$/, "must be an email address") })
    .default({ name: "relengd", email: "relengd@localhost" }),
});

const kojiTagTarget = z.strictObject({ tag: wellFormedString().regex(KOJI_TAG_PATTERN, "must be a koji tag") });

const bodhiTarget = z.strictObject({
  release: wellFormedString().regex(BODHI_RELEASE_PATTERN, "must be a Bodhi release like F44"),
  request: z.enum(bodhiRequests),
  type: z.enum(bodhiUpdateTypes).default("unspecified"),
  severity: z.enum(bodhiSeverities).default("unspecified"),
  autokarma: z.boolean().default(true),
  stable_karma: z.number().int().min(1).max(100).default(3),
  unstable_karma: z.number().int().min(-100).max(-1).default(-3),
  autotime: z.boolean().default(true),
  stable_days: z.number().int().min(0).max(365).default(7),
}).refine((b) => b.type !== "security" || b.severity !== "unspecified", {
  message: "security updates need a severity (Bodhi refuses unspecified)",
  path: ["severity"],
});

const composeTarget = z.strictObject({
  release: wellFormedString().regex(RELEASE_PATTERN, "must be a distro release"),
  type: z.enum(composeRequestTypes),
});

/**
 * What is checked before a compose is asked for (issue 18): `repoclosure` with Pungi's own
 * options. An ad-hoc release may give its own in its body; policy releases use this one.
 */
export const preflightSchema = z.strictObject({ repoclosure: repoclosurePreflightSchema });

// What every environment has besides its kind: freeze windows stop policy releases.
const common = {
  name,
  repository: name,
  description: wellFormedString().max(500).optional(),
  freezes: z.array(freezeSchema).max(100).default([]),
};

const environmentSchema = z.discriminatedUnion("kind", [
  z.strictObject({ ...common, kind: z.literal("KojiTag"), kojiTag: kojiTagTarget }),
  z.strictObject({ ...common, kind: z.literal("BodhiUpdate"), bodhi: bodhiTarget }),
  z.strictObject({ ...common, kind: z.literal("ComposeRequest"), compose: composeTarget, preflight: preflightSchema.optional() }),
]);

export const environmentsFileSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal("Environments"),
    repositories: z.array(repositorySchema).min(1).max(100),
    environments: z.array(environmentSchema).max(500),
  })
  .superRefine((file, ctx) => {
    const repos = new Set<string>();
    file.repositories.forEach((r, i) => {
      if (repos.has(r.name)) ctx.addIssue({ code: "custom", message: `repository ${r.name} is declared twice`, path: ["repositories", i, "name"] });
      repos.add(r.name);
    });
    const envs = new Set<string>();
    file.environments.forEach((e, i) => {
      if (envs.has(e.name)) ctx.addIssue({ code: "custom", message: `environment ${e.name} is declared twice`, path: ["environments", i, "name"] });
      envs.add(e.name);
      if (!repos.has(e.repository)) ctx.addIssue({ code: "custom", message: `no repository named ${e.repository}`, path: ["environments", i, "repository"] });
    });
  });

export type EnvironmentsFile = z.output<typeof environmentsFileSchema>;
export type Repository = z.output<typeof repositorySchema>;
export type Environment = EnvironmentsFile["environments"][number];
export type KojiTagEnvironment = Extract<Environment, { kind: "KojiTag" }>;
export type BodhiEnvironment = Extract<Environment, { kind: "BodhiUpdate" }>;
export type ComposeEnvironment = Extract<Environment, { kind: "ComposeRequest" }>;

export function parseEnvironmentsYaml(text: string): DocumentParse<EnvironmentsFile> {
  const yaml = parseYaml(text);
  if (!yaml.ok) return yaml;
  return validateDocument(environmentsFileSchema, yaml.value, yaml.lineOf);
}

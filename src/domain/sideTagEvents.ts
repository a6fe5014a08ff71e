// Koji's side tags on the bus: any buildsys.* message about a tag named `<base>-side-<N>` (Koji's
// sidetag plugin's default name template `{basetag}-side-{tag_id}`) shows the side tag. Pure.
import { KOJI_TAG_PATTERN } from "./artifact.js";
import { isObject } from "./observedTopics.js";

/** What one message shows of a side tag. */
export interface SideTagSeen {
  name: string;
  baseTag: string;
  /** The N of the name: Koji's tag id. */
  tagId: number;
  /** The message's topic without its prefix (buildsys.package.list.change). */
  topic: string;
  /** The package-list owner a buildsys.package.list.change names. */
  owner?: string;
  /** A package-list change: the package and what was done to it. */
  packageChange?: { package: string; action: "add" | "remove" | "block" | "unblock" | "update" };
}

// Koji's sidetag plugin: `{basetag}-side-{tag_id}`; Fedora allows no suffix (a suffixed name is
// another tag, like Bodhi's `<side tag>-signing-pending`).
const SIDE_TAG = /^(.+)-side-([1-9][0-9]{0,9})$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const PACKAGE = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$/;
const LIST_ACTIONS = ["add", "remove", "block", "unblock", "update"] as const;

/** The tag a buildsys message is about: `tag` as a name, or as Koji's tag info ({name}). */
function tagOf(body: Record<string, unknown>): unknown {
  const tag = body.tag;
  return isObject(tag) ? tag.name : tag;
}

/** The side tag a name is, if it is one. */
export function parseSideTagName(name: string): { baseTag: string; tagId: number } | undefined {
  if (!KOJI_TAG_PATTERN.test(name)) return undefined;
  const m = SIDE_TAG.exec(name);
  if (!m) return undefined;
  const tagId = Number(m[2]);
  const baseTag = m[1] as string;
  if (!Number.isSafeInteger(tagId) || tagId > 2_147_483_647 || !KOJI_TAG_PATTERN.test(baseTag)) return undefined;
  return { baseTag, tagId };
}

/** Whether a message is a buildsys.* one about a side tag (build state changes name no tag). */
export function isSideTagMessage(topic: string, body: Record<string, unknown>): boolean {
  if (!topic.startsWith("buildsys.") || topic === "buildsys.build.state.change") return false;
  const tag = tagOf(body);
  return typeof tag === "string" && parseSideTagName(tag) !== undefined;
}

export type SideTagEffect<K> = { kind: "sideTag"; sideTag: SideTagSeen; kojiTag?: K } | { kind: "ignored"; reason: string } | { kind: "rejected"; path: string; reason: string };

/**
 * A buildsys message on a side tag → the side tag observed; a tag or untag also keeps its Koji
 * tag change (busMapping's `mapTagChange` effect, `kojiTagOf` reads its change), so the observed
 * tag state stays as it was; any other effect of a tag change (rejected, ignored) is the
 * message's. Only the primary production Koji counts.
 */
export function mapSideTagMessage<E extends { kind: string }, K>(
  prefix: string | null,
  topic: string,
  body: Record<string, unknown>,
  mapTagChange: (body: Record<string, unknown>, action: "tag" | "untag") => E,
  kojiTagOf: (effect: E) => K | undefined,
): SideTagEffect<K> | E {
  if (prefix !== null && prefix !== "org.fedoraproject.prod.") return { kind: "ignored", reason: `a side tag in ${prefix}* Koji, not Fedora's production Koji` };
  if (typeof body.instance === "string" && body.instance !== "primary") return { kind: "ignored", reason: `a side tag on the ${body.instance.slice(0, 64).toWellFormed()} Koji instance, not the primary one` };
  const name = tagOf(body) as string;
  const parsed = parseSideTagName(name) as { baseTag: string; tagId: number };
  const seen: SideTagSeen = { name, baseTag: parsed.baseTag, tagId: parsed.tagId, topic };

  let kojiTag: K | undefined;
  if (topic === "buildsys.tag" || topic === "buildsys.untag") {
    const effect = mapTagChange(body, topic === "buildsys.tag" ? "tag" : "untag");
    kojiTag = kojiTagOf(effect);
    if (kojiTag === undefined) return effect;
  }
  if (topic === "buildsys.package.list.change") {
    const pkg = body.package;
    const action = body.action;
    if (typeof pkg !== "string" || !PACKAGE.test(pkg)) return { kind: "rejected", path: "/body/package", reason: "must be a koji package name" };
    if (!(LIST_ACTIONS as readonly unknown[]).includes(action)) return { kind: "rejected", path: "/body/action", reason: `must be one of ${LIST_ACTIONS.join(", ")}` };
    seen.packageChange = { package: pkg, action: action as (typeof LIST_ACTIONS)[number] };
    if (typeof body.owner === "string" && USER.test(body.owner)) seen.owner = body.owner;
  }
  return kojiTag === undefined ? { kind: "sideTag", sideTag: seen } : { kind: "sideTag", sideTag: seen, kojiTag };
}

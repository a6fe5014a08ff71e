// Issue 17 T's mappings, pure: dist-git branch creations, fedocal meetings, Koji side tags, and
// the observed branches merged into the facts. Adversarial inputs: huge values, wrong types,
// traversal, lone surrogates, other publishers.
import { describe, expect, it } from "vitest";
import { mapEnvelope, type BusEffect } from "../../src/domain/busMapping.js";
import { mapBranchCreation } from "../../src/domain/distgitEvents.js";
import { mapFedocal } from "../../src/domain/fedocalEvents.js";
import { distgitBranchesOf, withObservedBranches } from "../../src/domain/observedFacts.js";
import { publishedTopic } from "../../src/domain/observedTopics.js";
import { parseFactFile } from "../../src/domain/requests/facts.js";
import { calendarEntrySchema, buildCalendarEntry } from "../../src/domain/requests/calendarEntry.js";
import { parseSideTagName } from "../../src/domain/sideTagEvents.js";

const MEETING = {
  meeting_id: 501,
  meeting_name: "FESCo meeting",
  calendar_name: "fesco",
  meeting_date: "2026-12-14",
  meeting_date_end: "2026-12-14",
  meeting_time_start: "17:00:00",
  meeting_time_stop: "18:00:00",
  meeting_timezone: "UTC",
  meeting_manager: ["zbyszek"],
  meeting_location: "#meeting:fedoraproject.org",
  meeting_information: "Weekly FESCo meeting",
  meeting_region: null,
};
const meeting = (fields: Record<string, unknown>, topic = "org.fedoraproject.prod.fedocal.meeting.new") => mapFedocal(topic, { agent: "zbyszek", meeting: { ...MEETING, ...fields } });
const mapped = (effect: ReturnType<typeof mapFedocal>) => {
  if (effect.kind !== "calendarEntry") throw new Error(JSON.stringify(effect));
  return effect.meeting;
};

describe("publishers' prefixes", () => {
  it("splits pagure.io's and Fedora's prefixes of every environment, and leaves a bare topic bare", () => {
    expect(publishedTopic("io.pagure.prod.pagure.issue.new")).toEqual({ publisher: "io.pagure", env: "prod", bare: "pagure.issue.new" });
    expect(publishedTopic("org.fedoraproject.dev.fedocal.meeting.new")).toEqual({ publisher: "org.fedoraproject", env: "dev", bare: "fedocal.meeting.new" });
    expect(publishedTopic("fedocal.meeting.new")).toEqual({ publisher: null, env: null, bare: "fedocal.meeting.new" });
    expect(publishedTopic("org.centos.prod.ci.x")).toMatchObject({ publisher: null });
  });
});

describe("fedocal meetings", () => {
  it("maps a clean meeting to a CalendarEntry that passes the schema, with no problems", () => {
    const m = mapped(meeting({}));
    expect(m).toMatchObject({ action: "new", meetingId: 501, calendar: "fesco", path: "calendar/fesco/2026-12-14-fesco-meeting-501.yaml", problems: [], agent: "zbyszek" });
    expect(calendarEntrySchema.safeParse(buildCalendarEntry(m.spec)).success).toBe(true);
  });

  it("cuts huge values and names the cut; a huge calendar name is refused", () => {
    const m = mapped(meeting({ meeting_name: "x".repeat(100_000), meeting_information: "y".repeat(1_000_000), meeting_location: "z".repeat(5000) }));
    expect(m.spec.meeting_name).toHaveLength(200);
    expect(m.spec.meeting_information).toHaveLength(20_000);
    expect(m.spec.meeting_location).toHaveLength(500);
    expect(m.problems.filter((p) => /cut/.test(p))).toHaveLength(3);
    expect(m.problems.every((p) => p.length < 300)).toBe(true);
    expect(m.path.length).toBeLessThan(120);
    expect(meeting({ calendar_name: "c".repeat(10_000) })).toMatchObject({ kind: "rejected", path: "/body/meeting/calendar_name" });
  });

  it("takes wrong types as misfits where the document can do without them, and rejects them where it places the document", () => {
    const m = mapped(meeting({ meeting_name: { deep: [[[["x"]]]] }, meeting_manager: [1, "ok", null, "../x", "ok"], meeting_time_start: 1700, meeting_timezone: "../../etc/passwd", meeting_region: ["EMEA"], meeting_date_end: "tomorrow" }));
    expect(m.spec.meeting_name).toBe("meeting 501");
    expect(m.spec.meeting_manager).toEqual(["ok"]);
    expect(m.spec.meeting_timezone).toBe("UTC");
    expect(m.spec).not.toHaveProperty("meeting_time_start");
    expect(m.spec).not.toHaveProperty("meeting_region");
    expect(m.spec).not.toHaveProperty("meeting_date_end");
    // The schema's own word on what is left: the start time is missing.
    expect(m.problems.some((p) => p.startsWith("/spec/meeting_time_start "))).toBe(true);
    for (const [fields, path] of [
      [{ meeting_id: 1.5 }, "/body/meeting/meeting_id"],
      [{ meeting_id: 2 ** 40 }, "/body/meeting/meeting_id"],
      [{ meeting_id: null }, "/body/meeting/meeting_id"],
      [{ meeting_date: 20261214 }, "/body/meeting/meeting_date"],
      [{ meeting_date: "2026-12-14/../../x" }, "/body/meeting/meeting_date"],
      [{ calendar_name: null }, "/body/meeting/calendar_name"],
      [{ calendar_name: "\ud800" }, "/body/meeting/calendar_name"],
    ] as const) {
      expect(meeting(fields), JSON.stringify(fields)).toMatchObject({ kind: "rejected", path });
    }
    expect(mapFedocal("org.fedoraproject.prod.fedocal.meeting.new", { meeting: null })).toMatchObject({ kind: "rejected", path: "/body/meeting" });
  });

  it("falls back to the message's calendar when the meeting names none", () => {
    const { calendar_name: _none, ...withoutCalendar } = MEETING;
    const effect = mapFedocal("org.fedoraproject.prod.fedocal.meeting.update", { meeting: withoutCalendar, calendar: { calendar_name: "fesco" } });
    expect(mapped(effect)).toMatchObject({ action: "update", calendar: "fesco", problems: [] });
  });

  it("ignores reminders, calendars, other publishers and environments", () => {
    expect(meeting({}, "org.fedoraproject.prod.fedocal.meeting.reminder")).toMatchObject({ kind: "ignored" });
    expect(meeting({}, "org.fedoraproject.prod.fedocal.calendar.clear")).toMatchObject({ kind: "ignored" });
    expect(meeting({}, "org.fedoraproject.stg.fedocal.meeting.delete")).toMatchObject({ kind: "ignored" });
    expect(meeting({}, "io.pagure.prod.fedocal.meeting.new")).toMatchObject({ kind: "ignored" });
    // A bare topic (a replay without prefixes) is taken as production's.
    expect(meeting({}, "fedocal.meeting.delete")).toMatchObject({ kind: "calendarEntry" });
  });
});

describe("dist-git branch creations", () => {
  const body = (repo: Record<string, unknown>, branch: unknown = "refs/heads/f44") => ({ agent: "pingou", branch, rev: "abc1234", repo });
  it("reads namespace and name, or the fedmsg-era fullname", () => {
    expect(mapBranchCreation("org.fedoraproject.prod.pagure.git.branch.creation", body({ namespace: "container", name: "flatpak-runtime" }))).toEqual({
      kind: "distgitBranch",
      branch: { namespace: "container", repo: "flatpak-runtime", branch: "f44", rev: "abc1234", agent: "pingou" },
    });
    expect(mapBranchCreation("org.fedoraproject.prod.pagure.git.branch.creation", body({ fullname: "rpms/nethack" }, "epel9"))).toMatchObject({ branch: { namespace: "rpms", repo: "nethack", branch: "epel9" } });
    expect(mapBranchCreation("org.fedoraproject.prod.pagure.git.branch.creation", body({ name: "nethack" }))).toMatchObject({ kind: "ignored" });
  });
  it("refuses branch names git would refuse, and huge ones", () => {
    for (const branch of ["", "-x", ".x", "a..b", "a b", "a~1", "x.lock", "a//b", "a/", "b".repeat(300), "refs/heads/", "a@{1}"]) {
      expect(mapBranchCreation("org.fedoraproject.prod.pagure.git.branch.creation", body({ namespace: "rpms", name: "nethack" }, branch)).kind, branch).toBe("rejected");
    }
  });
});

describe("Koji side tags", () => {
  it("reads <base>-side-<N> and nothing else", () => {
    expect(parseSideTagName("f44-build-side-123456")).toEqual({ baseTag: "f44-build", tagId: 123456 });
    expect(parseSideTagName("epel10.1-build-side-7")).toEqual({ baseTag: "epel10.1-build", tagId: 7 });
    for (const name of ["f44-build-side-0", "f44-build-side-", "-side-12", "f44-build-side-12-signing-pending", "f44-build-side-99999999999", "f44-build-side-012", "f44 build-side-12"]) {
      expect(parseSideTagName(name), name).toBeUndefined();
    }
  });
  it("maps any buildsys message naming a side tag (also as Koji's tag info), not a build state change", () => {
    const envelope = (topic: string, body: Record<string, unknown>) => ({ id: "x", topic: `org.fedoraproject.prod.${topic}`, headers: {}, body });
    const kind = (e: BusEffect) => e.kind;
    expect(kind(mapEnvelope(envelope("buildsys.repo.done", { tag: { name: "f44-build-side-5", id: 5 }, instance: "primary" }), { rawhideVersion: 45 }))).toBe("sideTag");
    expect(kind(mapEnvelope(envelope("buildsys.repo.init", { tag: "f44-build-side-5" }), { rawhideVersion: 45 }))).toBe("sideTag");
    expect(kind(mapEnvelope(envelope("buildsys.repo.init", { tag: "f44-build" }), { rawhideVersion: 45 }))).toBe("ignored");
    const untag = mapEnvelope(envelope("buildsys.untag", { tag: "f44-build-side-5", name: "bash", version: "5.2", release: "1.fc44", build_id: 9 }), { rawhideVersion: 45 });
    expect(untag).toMatchObject({ kind: "sideTag", sideTag: { name: "f44-build-side-5", baseTag: "f44-build", tagId: 5 }, kojiTag: { action: "untag", tag: "f44-build-side-5", nvr: "bash-5.2-1.fc44" } });
  });
});

describe("observed branches in the facts", () => {
  it("adds to known distgit facts without changing them, and leaves unknown ones unknown", () => {
    const parsed = parseFactFile("distgit", { rpms: { bash: ["rawhide"] } });
    if (!parsed.ok) throw new Error(parsed.error);
    const facts = { values: { distgit: parsed.value }, status: [] };
    const observed = distgitBranchesOf([
      { namespace: "rpms", repo: "bash", branch: "f44" },
      { namespace: "container", repo: "httpd", branch: "rawhide" },
    ]);
    const merged = withObservedBranches(facts, observed).values.distgit;
    expect([...(merged?.get("rpms")?.get("bash") ?? [])].sort()).toEqual(["f44", "rawhide"]);
    expect(merged?.get("container")?.get("httpd")?.has("rawhide")).toBe(true);
    expect(facts.values.distgit.get("rpms")?.get("bash")?.has("f44")).toBe(false);
    expect(withObservedBranches({ values: {}, status: [] }, observed).values.distgit).toBeUndefined();
  });
});

import { CronExpressionParser } from "cron-parser";
import fc from "fast-check";
import cron from "node-cron";
import { describe, expect, it } from "vitest";
import { clockChangeHours, describeScheduleRefusal, parseSchedule, previousSlot, type Schedule } from "../../src/domain/schedule.js";

// Fixed instants, none of them today: January, both of Europe's clock changes, America's autumn
// one, and a leap February.
const STARTS = ["2026-01-01T00:00:00Z", "2026-03-28T12:00:00Z", "2026-10-24T12:00:00Z", "2026-10-31T12:00:00Z", "2028-02-27T00:00:00Z"].map((s) => new Date(s));
const FIRES = 6;

/** What node-cron's timer would fire next: its own walker, the one its heartbeat uses (not public API). */
function nodeCronFires(expression: string, timezone: string, from: Date): string[] | "refused" {
  if (!cron.validate(expression)) return "refused";
  const task = cron.createTask(expression, () => undefined, { timezone });
  const walker = (task as unknown as { timeMatcher: { getNextMatch(d: Date): Date } }).timeMatcher;
  try {
    const out: string[] = [];
    let at = from;
    for (let i = 0; i < FIRES; i++) out.push((at = walker.getNextMatch(at)).toISOString());
    return out;
  } catch {
    return "refused";
  } finally {
    try {
      void task.destroy();
    } catch {
      // An unknown zone fails again in destroy's own bookkeeping; the task is gone either way.
    }
  }
}

function cronParserFires(expression: string, timezone: string, from: Date): string[] | "refused" {
  try {
    const it = CronExpressionParser.parse(expression, { tz: timezone, currentDate: from });
    return Array.from({ length: FIRES }, () => it.next().toDate().toISOString());
  } catch {
    return "refused";
  }
}

/** Whether both libraries take the expression and fire it at the same instants from every start. */
function librariesAgree(expression: string, timezone: string): { nodeCron: boolean; cronParser: boolean; same: boolean } {
  let nodeCron = true;
  let cronParser = true;
  let same = true;
  for (const from of STARTS) {
    const a = nodeCronFires(expression, timezone, from);
    const b = cronParserFires(expression, timezone, from);
    if (a === "refused") nodeCron = false;
    if (b === "refused") cronParser = false;
    if (a === "refused" || b === "refused") return { nodeCron, cronParser, same: false };
    if (a.join() !== b.join()) same = false;
  }
  return { nodeCron, cronParser, same };
}

// Cron text in the many spellings the two libraries take or refuse.
const number = (max: number) => fc.oneof(fc.integer({ min: 0, max }).map(String), fc.constantFrom("00", "05", "60", "99", "100"));
const name = fc.constantFrom("MON", "mon", "Fri", "SUN", "SAT", "monday", "JAN", "jan", "Mar", "DEC", "january", "jul");
const value = (max: number) => fc.oneof({ weight: 4, arbitrary: number(max) }, { weight: 1, arbitrary: name });
const item = (max: number) =>
  fc.oneof(
    { weight: 4, arbitrary: value(max) },
    { weight: 2, arbitrary: fc.tuple(value(max), value(max)).map(([a, b]) => `${a}-${b}`) },
    { weight: 2, arbitrary: fc.tuple(value(max), value(max), fc.integer({ min: 0, max: 12_000 })).map(([a, b, s]) => `${a}-${b}/${s}`) },
    { weight: 2, arbitrary: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 12_000 }), fc.constantFrom("05", "00")).map((s) => `*/${s}`) },
    { weight: 1, arbitrary: fc.tuple(value(max), fc.integer({ min: 1, max: 30 })).map(([a, s]) => `${a}/${s}`) },
    { weight: 1, arbitrary: fc.constantFrom("L", "5L", "7L", "0L", "1#2", "7#1", "1#5", "1#6", "15W", "LW", "L-2", "H", "?", "*") },
  );
const field = (max: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant("*") },
    { weight: 1, arbitrary: fc.constant("?") },
    { weight: 4, arbitrary: fc.array(item(max), { minLength: 1, maxLength: 3 }).map((xs) => xs.join(",")) },
  );
const fiveFields = fc.tuple(field(59), field(23), field(31), field(12), field(7)).map((fs) => fs.join(" "));
const expression = fc.oneof(
  { weight: 8, arbitrary: fiveFields },
  { weight: 1, arbitrary: fc.tuple(field(59), fiveFields).map(([s, rest]) => `${s} ${rest}`) },
  { weight: 1, arbitrary: fc.constantFrom("@daily", "@hourly", "@weekly", "@monthly", "@yearly", "@annually", "@midnight", "@DAILY", " @daily ", "@minutely", "@secondly") },
  { weight: 1, arbitrary: fiveFields.map((e) => e.replace(" ", "  ")) },
  { weight: 1, arbitrary: fiveFields.map((e) => e.replace(" ", "\t")) },
  { weight: 1, arbitrary: fiveFields.map((e) => ` ${e}\t`) },
);
// Zones with and without daylight saving time, half-hour ones, one that changes at midnight, and spellings only one library takes.
const timezone = fc.constantFrom("UTC", "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "America/Santiago", "Etc/GMT-3", "utc", "UTC+3", "+03:00", "Bad/Zone");

describe("cron schedules", () => {
  it("accepts only what node-cron and cron-parser both take and fire at the same instants", () => {
    fc.assert(
      fc.property(expression, timezone, (expr, tz) => {
        const parsed = parseSchedule(expr, tz);
        const agreement = librariesAgree(expr, tz);
        if (parsed.ok) {
          expect(agreement, `${expr} in ${tz}`).toEqual({ nodeCron: true, cronParser: true, same: true });
        } else if (parsed.field !== "hour" && !/seconds field/.test(parsed.reason)) {
          // A refusal other than relengd's own rules (whole minutes; hours the zone's clock
          // changes touch, checked below) is one of the libraries refusing or the two disagreeing.
          expect(agreement.same, `${expr} in ${tz} refused (${describeScheduleRefusal(parsed)}) though both libraries fire it alike`).toBe(false);
        }
      }),
      // SCHEDULE_RUNS=5000 for a deeper search after a library upgrade.
      { numRuns: Number(process.env.SCHEDULE_RUNS ?? 400) },
    );
  }, 120_000);

  it("gives the slot of every instant the timer fires at, and of a tick that comes late within the minute", () => {
    fc.assert(
      fc.property(fiveFields, fc.constantFrom("UTC", "Europe/Berlin", "Asia/Kathmandu"), fc.constantFrom(...STARTS), fc.integer({ min: 1, max: 59_999 }), (expr, tz, from, lateMs) => {
        const parsed = parseSchedule(expr, tz);
        if (!parsed.ok) return;
        const fires = nodeCronFires(parsed.value.expression, tz, from);
        expect(fires).not.toBe("refused");
        for (const fire of fires as string[]) {
          expect(previousSlot(parsed.value, new Date(fire))?.toISOString()).toBe(fire);
          expect(previousSlot(parsed.value, new Date(Date.parse(fire) + lateMs))?.toISOString()).toBe(fire);
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it("names the field and the reason when it refuses", () => {
    const refusal = (expr: string, tz = "UTC") => {
      const r = parseSchedule(expr, tz);
      return r.ok ? "accepted" : describeScheduleRefusal(r);
    };
    expect(refusal("60 5 * * *")).toBe("minute: 60 is outside 0-59");
    expect(refusal("0 24 * * *")).toBe("hour: 24 is outside 0-23");
    expect(refusal("0 5 * 13 *")).toBe("month: 13 is outside 1-12");
    expect(refusal("0 5 * * 8")).toBe("day-of-week: 8 is outside 0-7");
    expect(refusal("0 5 * * FRI-MON")).toBe("day-of-week: range FRI-MON runs backwards: write it as two ranges");
    expect(refusal("5/15 * * * *")).toBe("minute: \"5/15\" needs a range or * before the step, like 5-59/15");
    expect(refusal("0 5 1 * MON")).toMatch(/^day-of-week: restricts the day with day-of-month restricted too/);
    expect(refusal("0 5 15W * *")).toMatch(/^day-of-month: "15W" uses L, W or #/);
    expect(refusal("0 5 31 2 *")).toBe("day-of-month: no day named exists in the months named (at most 29 days)");
    expect(refusal("0 0 5 * * *")).toMatch(/^expression: has a seconds field/);
    expect(refusal("every night")).toMatch(/^expression: has 2 fields, not five/);
    expect(refusal("@minutely")).toMatch(/^expression: @minutely is not one of @yearly/);
    expect(refusal("0 5 * * *", "Mars/Olympus")).toBe('timezone: "Mars/Olympus" is not an IANA time zone like UTC or Europe/Prague');
    expect(refusal("30 2 * * *", "Europe/Berlin")).toMatch(/^hour: Europe\/Berlin moves its clocks within hour 2,/);
  });

  it("accepts the spellings both libraries read alike", () => {
    for (const expr of ["0 5 * * *", "*/15 * * * *", "0 5 * * MON-FRI", "0 5 * jan,JUL *", "0 5 L * *", "0 5 * * 5L", "0 5 ? * 1#2", "0 0-12/3 * * *", "@daily", " 0  5 * * * "]) {
      expect(parseSchedule(expr).ok, expr).toBe(true);
    }
    expect(parseSchedule("0 5 * * *", "Europe/Berlin").ok).toBe(true);
    expect(parseSchedule("0 * * * *", "Asia/Kathmandu").ok).toBe(true);
  });

  it("refuses the hour of a clock change because the libraries fire different instants in it", () => {
    // Berlin sets its clocks back at 03:00 CEST on 2026-10-25: 02:30 happens twice.
    const from = new Date("2026-10-24T12:00:00Z");
    expect(nodeCronFires("30 2 * * *", "Europe/Berlin", from)).not.toEqual(cronParserFires("30 2 * * *", "Europe/Berlin", from));
    expect([...clockChangeHours("Europe/Berlin")]).toEqual([2]);
    expect([...clockChangeHours("UTC")]).toEqual([]);
    // Lord Howe moves by half an hour: 01:30-02:00 repeats, 02:00-02:30 is skipped.
    expect([...clockChangeHours("Australia/Lord_Howe")].sort()).toEqual([1, 2]);
  });

  it("finds the latest slot at or before now, and none before the first", () => {
    const daily = parseSchedule("0 5 * * *");
    if (!daily.ok) throw new Error("0 5 * * * refused");
    expect(previousSlot(daily.value, new Date("2026-11-28T12:00:00Z"))?.toISOString()).toBe("2026-11-28T05:00:00.000Z");
    expect(previousSlot(daily.value, new Date("2026-11-28T05:00:00Z"))?.toISOString()).toBe("2026-11-28T05:00:00.000Z");
    expect(previousSlot(daily.value, new Date("2026-11-28T04:59:59.999Z"))?.toISOString()).toBe("2026-11-27T05:00:00.000Z");
    const prague = parseSchedule("0 5 * * *", "Europe/Prague");
    if (!prague.ok) throw new Error("0 5 * * * in Prague refused");
    expect(previousSlot(prague.value, new Date("2026-07-01T12:00:00Z"))?.toISOString()).toBe("2026-07-01T03:00:00.000Z");
  });

  it("is a value of its own type only through parseSchedule", () => {
    // @ts-expect-error a plain object is not a checked Schedule
    const unchecked: Schedule = { expression: "0 5 * * *", timezone: "UTC" };
    expect(unchecked.expression).toBe("0 5 * * *");
  });
});

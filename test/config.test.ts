import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_AMQP_TOPICS, loadConfig } from "../src/config.js";

describe("configuration of the bus consumer", () => {
  it("has no consumer unless RELENGD_AMQP_URL is set, and Rawhide is f45 by default", () => {
    const config = loadConfig({});
    expect(config.amqp).toBeUndefined();
    expect(config.rawhideVersion).toBe(45);
  });

  it("binds amq.topic to the issue's default topics on a durable queue named relengd", () => {
    expect(loadConfig({ RELENGD_AMQP_URL: "amqp://guest:guest@broker:5672" }).amqp).toEqual({
      url: "amqp://guest:guest@broker:5672",
      exchange: "amq.topic",
      queue: "relengd",
      topics: DEFAULT_AMQP_TOPICS,
      prefetch: 50,
    });
    expect(DEFAULT_AMQP_TOPICS).toContain("org.fedoraproject.prod.bodhi.update.#");
    expect(DEFAULT_AMQP_TOPICS).toContain("org.centos.prod.ci.koji-build.test.complete");
  });

  it("takes a comma-separated topic list, queue, exchange, prefetch and Rawhide version", () => {
    const config = loadConfig({
      RELENGD_AMQP_URL: "amqps://relengd:secret@rabbitmq.fedoraproject.org/%2Fpubsub",
      RELENGD_AMQP_TOPICS: "org.fedoraproject.prod.buildsys.#, org.centos.prod.ci.*.test.complete",
      RELENGD_AMQP_QUEUE: "relengd-shadow",
      RELENGD_AMQP_EXCHANGE: "relengd.test",
      RELENGD_AMQP_PREFETCH: "10",
      RELENGD_AMQP_PUBLISH_PREFIX: "org.fedoraproject.prod.",
      RELENGD_RAWHIDE_VERSION: "46",
    });
    expect(config.amqp).toMatchObject({ topics: ["org.fedoraproject.prod.buildsys.#", "org.centos.prod.ci.*.test.complete"], queue: "relengd-shadow", exchange: "relengd.test", prefetch: 10, publishPrefix: "org.fedoraproject.prod." });
    expect(config.rawhideVersion).toBe(46);
  });

  it.each([
    ["RELENGD_AMQP_URL", "http://broker"],
    ["RELENGD_AMQP_TOPICS", "org.fedoraproject.prod.buildsys tag"],
    ["RELENGD_AMQP_TOPICS", " , "],
    ["RELENGD_AMQP_PREFETCH", "0"],
    ["RELENGD_AMQP_PUBLISH_PREFIX", "org.fedoraproject.prod"],
    ["RELENGD_RAWHIDE_VERSION", "rawhide"],
  ])("refuses %s=%s, naming the variable", (name, value) => {
    const env = { RELENGD_AMQP_URL: "amqp://broker", [name]: value };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});

describe("configuration of scheduled retention", () => {
  it("takes the schedules policies may have, in UTC, and refuses the others naming the field", () => {
    expect(loadConfig({ RELENGD_PRUNE_SCHEDULE: "@daily" }).prune?.schedule).toBe("@daily");
    expect(loadConfig({ RELENGD_PRUNE_SCHEDULE: "0 3 * * MON-FRI" }).prune?.schedule).toBe("0 3 * * MON-FRI");
    // node-cron takes both of these; cron-parser refuses the first and reads the second otherwise.
    expect(() => loadConfig({ RELENGD_PRUNE_SCHEDULE: "0 3 * * FRI-MON" })).toThrow(/RELENGD_PRUNE_SCHEDULE.*day-of-week: range FRI-MON runs backwards/);
    expect(() => loadConfig({ RELENGD_PRUNE_SCHEDULE: "0 3 1 * MON" })).toThrow(/RELENGD_PRUNE_SCHEDULE.*day-of-week: restricts the day/);
    expect(() => loadConfig({ RELENGD_PRUNE_SCHEDULE: "0 0 3 * * *" })).toThrow(/RELENGD_PRUNE_SCHEDULE.*seconds field/);
  });
});

describe("configuration of forge webhooks", () => {
  it("are off unless RELENGD_FORGE_WEBHOOK_SECRET is set, and refuse a short secret naming the variable", () => {
    expect(loadConfig({}).forgeWebhookSecret).toBeUndefined();
    expect(loadConfig({ RELENGD_FORGE_WEBHOOK_SECRET: "a-forge-secret-0123456789" }).forgeWebhookSecret).toBe("a-forge-secret-0123456789");
    expect(() => loadConfig({ RELENGD_FORGE_WEBHOOK_SECRET: "short" })).toThrow(ConfigError);
    expect(() => loadConfig({ RELENGD_FORGE_WEBHOOK_SECRET: "short" })).toThrow(/RELENGD_FORGE_WEBHOOK_SECRET: must be at least 16 characters/);
  });
});

describe("configuration of the repoclosure checks and the report's mail", () => {
  it("has defaults a new server runs with: dnf on PATH, 30 min and 4 GiB per dnf, results reused 10 min, a dry run of mail", () => {
    const config = loadConfig({ RELENGD_DATA_DIR: "/srv/relengd" });
    expect(config.repoclosure).toEqual({ dnf: "dnf", timeoutMs: 1_800_000, memoryBytes: 4096 * 1024 * 1024, maxAgeMs: 600_000, keepWorkMs: 604_800_000, workDir: "/srv/relengd/repoclosure" });
    expect(config.mail).toEqual({ from: "relengd@localhost", ownerAddress: "{package}-owner@fedoraproject.org", dryRunDir: "/srv/relengd/mail" });
    expect(config.publicUrl).toBeUndefined();
  });

  it("takes every setting", () => {
    const config = loadConfig({
      RELENGD_DNF: "/usr/bin/dnf5",
      RELENGD_REPOCLOSURE_TIMEOUT: "2h",
      RELENGD_REPOCLOSURE_MEMORY_MB: "8192",
      RELENGD_REPOCLOSURE_MAX_AGE: "0s",
      RELENGD_REPOCLOSURE_KEEP_WORK: "2d",
      RELENGD_PUBLIC_URL: "https://relengd.example.org/",
      RELENGD_SMTP_URL: "smtp://bastion.fedoraproject.org:25",
      RELENGD_MAIL_FROM: "buildsys@fedoraproject.org",
      RELENGD_MAIL_LIST: "devel@lists.fedoraproject.org",
      RELENGD_MAIL_OWNER_ADDRESS: "{package}-maintainers@fedoraproject.org",
    });
    expect(config.repoclosure).toMatchObject({ dnf: "/usr/bin/dnf5", timeoutMs: 7_200_000, memoryBytes: 8192 * 1024 * 1024, maxAgeMs: 0, keepWorkMs: 172_800_000 });
    expect(config.publicUrl).toBe("https://relengd.example.org");
    expect(config.mail).toMatchObject({ smtpUrl: "smtp://bastion.fedoraproject.org:25", from: "buildsys@fedoraproject.org", list: "devel@lists.fedoraproject.org", ownerAddress: "{package}-maintainers@fedoraproject.org" });
  });

  it.each([
    ["RELENGD_REPOCLOSURE_TIMEOUT", "forever"],
    ["RELENGD_REPOCLOSURE_MEMORY_MB", "12"],
    ["RELENGD_REPOCLOSURE_MAX_AGE", "-1m"],
    ["RELENGD_REPOCLOSURE_KEEP_WORK", "0s"],
    ["RELENGD_PUBLIC_URL", "relengd.example.org"],
    ["RELENGD_SMTP_URL", "http://mail"],
    ["RELENGD_MAIL_FROM", "not an address"],
    ["RELENGD_MAIL_OWNER_ADDRESS", "owners@fedoraproject.org"],
    ["RELENGD_MAIL_OWNER_ADDRESS", "{package}-owner"],
  ])("refuses %s=%s, naming it", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

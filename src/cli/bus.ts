// `relengd bus replay PATH`: captured bus messages (a folder of JSON files, a JSON-lines file, a datagrepper export) sent through POST /api/v1/events, with a progress line and a summary.
// `relengd bus topics`: the topics relengd's queue is bound to, from its configuration.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { inSendingOrder, parseCapture, type CapturedMessage } from "../bus/capture.js";
import { bareTopic, type Envelope } from "../domain/envelope.js";
import { loadConfig } from "../config.js";
import { apiClient, CliError, exitCodes } from "./client.js";
import { clientVerb, outputFormat, printJson, printTable } from "./output.js";

const outcomes = ["accepted", "waiting", "ignored", "deferred", "duplicate", "rejected"] as const;
type ReplayOutcome = (typeof outcomes)[number];

interface ReplayOptions {
  output: string;
  keepOrder?: boolean;
}

interface Rejection {
  where: string;
  messageId: string | null;
  topic: string | null;
  reason: string;
}

const help = `
PATH is a folder (every *.json and *.jsonl file under it, by path) or one file. A file holds one
message, an array of messages, a datagrepper page ({"raw_messages": [...]}), or JSON lines (one
message per line). A message is relengd's JSON form {"id", "topic", "headers", "body"} (as in
test/fixtures/fedora-messages and GET /api/v1/events) or datagrepper's
{"msg_id", "topic", "timestamp", "headers", "msg"}. Messages that all say when they were sent
(sent-at, or datagrepper's timestamp) are replayed oldest first; otherwise in file order.

Every message goes through the same mapping as one consumed from the bus; one seen before is a
duplicate and changes nothing, so a replay can be run again.

Exit codes: 0 every message was taken (accepted, waiting, ignored or duplicate), 1 some were
rejected (the summary and GET /api/v1/events?status=rejected say why), 2 usage error, 3 server
error, 4 relengd unreachable. RELENGD_URL and RELENGD_TOKEN (role admin) name the server and the token.`;

/** What `bus topics` says below the bindings: the broker drops every other topic before relengd sees it. */
export const NOT_BOUND_NOTE =
  "Only messages whose topic matches one of these bindings (* is one word, # any number of words) reach relengd. " +
  "Neighbouring topics (other buildsys.*, bodhi.* or ci.* messages, the stg. environment, other prefixes) are not received, by design: " +
  "the broker never routes them to relengd's queue, so they are neither lost nor counted. RELENGD_AMQP_TOPICS changes the bindings.";

export function registerBusCommands(program: Command): void {
  const bus = program.command("bus").description("the Fedora message bus bridge");

  bus
    .command("topics")
    .description("print the topics relengd's queue is bound to (RELENGD_AMQP_TOPICS or the defaults); no other topic reaches relengd")
    .option("--output <format>", "table or json", "table")
    .action((o: { output: string }) => {
      const output = outputFormat(o.output);
      const config = loadConfig();
      const { exchange, queue, topics } = config.busBindings;
      const consuming = config.amqp !== undefined;
      if (output === "json") return printJson({ exchange, queue, consuming, topics, note: NOT_BOUND_NOTE });
      const state = consuming ? "the consumer is on" : "the consumer is off: RELENGD_AMQP_URL is not set";
      process.stdout.write(`queue ${queue} on exchange ${exchange} (${state}) is bound to:\n`);
      for (const t of topics) process.stdout.write(`  ${t}\n`);
      process.stdout.write(`\n${NOT_BOUND_NOTE}\n`);
    });

  clientVerb(bus.command("replay"))
    .description("send captured bus messages through relengd's mapping, as if consumed from the bus")
    .argument("<path>", "a folder of JSON message files, a JSON-lines file, or a datagrepper export")
    .option("--keep-order", "replay in file order even when every message says when it was sent")
    .addHelpText("after", help)
    .action(async (target: string, o: ReplayOptions) => {
      const format = outputFormat(o.output);
      const captured = readCapture(target);
      const envelopes = captured.flatMap((c) => (c.ok ? [c.envelope] : []));
      const ordered = o.keepOrder ? { messages: envelopes, ordered: false } : inSendingOrder(envelopes);
      if (!o.keepOrder && !ordered.ordered && envelopes.length > 1) process.stderr.write("some messages do not say when they were sent: replaying in file order\n");

      const counts = new Map<string, Record<ReplayOutcome, number>>();
      const count = (topic: string, outcome: ReplayOutcome) => {
        const row = counts.get(topic) ?? Object.fromEntries(outcomes.map((k) => [k, 0]));
        row[outcome]++;
        counts.set(topic, row as Record<ReplayOutcome, number>);
      };
      const rejected: Rejection[] = [];
      // Unreadable entries are rejected here, without a request: the server would say the same.
      for (const c of captured) {
        if (c.ok) continue;
        count(c.topic ? bareTopic(c.topic) : "(not a message)", "rejected");
        const first = c.issues[0];
        rejected.push({ where: c.where, messageId: null, topic: c.topic, reason: first ? `${first.path} ${first.message}` : "not a message" });
      }

      const whereOf = new Map(captured.flatMap((c) => (c.ok ? [[c.envelope, c.where] as const] : [])));
      const client = apiClient();
      const progress = new Progress(ordered.messages.length);
      for (const envelope of ordered.messages) {
        const result = await replayOne(client, envelope);
        count(bareTopic(envelope.topic), result.outcome);
        if (result.outcome === "rejected") rejected.push({ where: whereOf.get(envelope) ?? "", messageId: envelope.id, topic: envelope.topic, reason: result.reason });
        progress.tick(result.outcome);
      }
      progress.done();

      const totals = Object.fromEntries(outcomes.map((k) => [k, [...counts.values()].reduce((n, r) => n + r[k], 0)])) as Record<ReplayOutcome, number>;
      if (format === "json") {
        printJson({ messages: captured.length, outcomes: totals, byTopic: Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b))), rejected });
      } else {
        const shown = outcomes.filter((k) => k !== "deferred" || totals.deferred > 0);
        const rows = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([topic, r]) => [topic, ...shown.map((k) => String(r[k]))]);
        rows.push(["total", ...shown.map((k) => String(totals[k]))]);
        printTable(["TOPIC", ...shown.map((k) => k.toUpperCase())], rows);
        for (const r of rejected) process.stderr.write(`rejected ${r.where}${r.messageId ? ` (${r.messageId})` : ""}: ${r.reason}\n`);
      }
      if (totals.rejected > 0) throw new CliError("", exitCodes.rejected);
    });
}

/** Every message under `target`: a file, or the *.json and *.jsonl files of a folder tree in path order. */
function readCapture(target: string): CapturedMessage[] {
  let stat;
  try {
    stat = statSync(target);
  } catch {
    throw new CliError(`${target}: no such file or folder`, exitCodes.usage);
  }
  const files = stat.isDirectory() ? filesUnder(target) : [target];
  if (files.length === 0) throw new CliError(`${target}: no *.json or *.jsonl files in it`, exitCodes.usage);
  return files.flatMap((file) => parseCapture(readFileSync(file, "utf8"), stat.isDirectory() ? path.relative(target, file) : file));
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (entry.isFile() && /\.jsonl?$/.test(entry.name)) out.push(full);
  }
  return out;
}

/** One message through POST /api/v1/events: 201 says the outcome, 200 a duplicate, 422 a rejection. */
async function replayOne(client: ReturnType<typeof apiClient>, envelope: Envelope): Promise<{ outcome: ReplayOutcome; reason: string }> {
  try {
    const res = await client.request<{ outcome?: string; reason?: string }>("POST", "/api/v1/events", envelope);
    const outcome = (outcomes as readonly string[]).includes(res.body.outcome ?? "") ? (res.body.outcome as ReplayOutcome) : res.status === 200 ? "duplicate" : "accepted";
    return { outcome, reason: res.body.reason ?? "" };
  } catch (err) {
    // The client's message starts "relengd answered <status>"; only a 422 is the mapping's answer.
    if (err instanceof CliError && /^relengd answered 422\b/.test(err.message)) return { outcome: "rejected", reason: err.message.replace(/^relengd answered 422 [^:]*: /, "").split("\n")[0] ?? "" };
    throw err;
  }
}

/** One line on stderr, redrawn at most every 100 ms, only on a terminal (logs get the summary only). */
class Progress {
  private readonly live = process.stderr.isTTY === true;
  private seen = 0;
  private readonly tally: Partial<Record<ReplayOutcome, number>> = {};
  private drawnAt = 0;

  constructor(private readonly total: number) {}

  tick(outcome: ReplayOutcome): void {
    this.seen++;
    this.tally[outcome] = (this.tally[outcome] ?? 0) + 1;
    if (this.live && (Date.now() - this.drawnAt > 100 || this.seen === this.total)) this.draw();
  }

  done(): void {
    if (this.live && this.total > 0) process.stderr.write("\n");
  }

  private draw(): void {
    this.drawnAt = Date.now();
    const width = 30;
    const filled = this.total === 0 ? width : Math.round((this.seen / this.total) * width);
    const parts = outcomes.filter((k) => this.tally[k]).map((k) => `${k} ${this.tally[k]}`);
    process.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${this.seen}/${this.total} ${parts.join(", ")}\x1b[K`);
  }
}

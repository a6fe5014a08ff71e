// `relengd hold add|list|remove`: stop (and allow again) non-forced releases of a package to an environment.
import type { Command } from "commander";
import { apiClient } from "./client.js";
import { clientVerb, outputFormat, printJson, printTable } from "./output.js";
import { ulidArgument } from "./track.js";

/** A hold as /api/v1/holds answers it. */
export interface HoldView {
  id: string;
  environment: string;
  package: string;
  reason: string;
  createdBy: string;
  createdAt: string;
  /** The rollback release that placed it, if a rollback did. */
  releaseId: string | null;
}

export const holdLine = (h: HoldView) => `held ${h.environment}/${h.package} (hold ${h.id}): ${h.reason}`;

export function registerHoldCommands(program: Command): void {
  const hold = program
    .command("hold")
    .description("hold a package in an environment: releases of it there are refused unless forced");

  clientVerb(hold.command("add"))
    .description("hold a package in an environment")
    .requiredOption("--environment <env>", "the environment")
    .requiredOption("--package <name>", "the source package")
    .requiredOption("--reason <text>", "why; shown to whoever is refused a release")
    .action(async (o: { environment: string; package: string; reason: string; output: string }) => {
      const output = outputFormat(o.output);
      const res = await apiClient().request<HoldView>("POST", "/api/v1/holds", { environment: o.environment, package: o.package, reason: o.reason });
      if (output === "json") return printJson(res.body);
      process.stdout.write(holdLine(res.body) + "\n");
    });

  clientVerb(hold.command("list"))
    .description("list holds")
    .option("--environment <env>")
    .option("--package <name>")
    .action(async (o: { environment?: string; package?: string; output?: string }) => {
      const output = outputFormat(o.output);
      const params = new URLSearchParams();
      if (o.environment !== undefined) params.set("environment", o.environment);
      if (o.package !== undefined) params.set("package", o.package);
      const query = params.size > 0 ? `?${params.toString()}` : "";
      const res = await apiClient().request<{ items: HoldView[] }>("GET", `/api/v1/holds${query}`);
      if (output === "json") return printJson(res.body);
      printTable(
        ["ID", "ENVIRONMENT", "PACKAGE", "BY", "CREATED", "REASON"],
        res.body.items.map((h) => [h.id, h.environment, h.package, h.createdBy, h.createdAt, h.reason]),
      );
    });

  clientVerb(hold.command("remove"))
    .description("lift a hold (the next non-forced release of the package may go through)")
    .argument("<id>", "hold id, from `hold list`")
    .action(async (id: string, o: { output: string }) => {
      const output = outputFormat(o.output);
      const res = await apiClient().request<HoldView>("DELETE", `/api/v1/holds/${ulidArgument("hold", id)}`);
      if (output === "json") return printJson(res.body);
      process.stdout.write(`lifted hold ${res.body.id} on ${res.body.environment}/${res.body.package}\n`);
    });
}

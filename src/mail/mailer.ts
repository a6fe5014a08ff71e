// Sends relengd's mail: through an SMTP server (nodemailer, RELENGD_SMTP_URL), or, by default, a
// dry run that writes each message as an .eml file someone can read or send by hand.
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import nodemailer, { type SendMailOptions } from "nodemailer";
import type { MailMessage } from "../domain/brokenDepsMail.js";

export interface Mailer {
  /** "smtp" or "dry-run": what metrics and logs say of where mail went. */
  readonly kind: "smtp" | "dry-run";
  /** Sends every message, in order; rejects at the first that cannot go (the ones before it went). */
  send(messages: readonly MailMessage[]): Promise<void>;
  close(): void;
}

function envelopeOf(m: MailMessage): SendMailOptions {
  return { from: m.from, to: m.to, ...(m.cc.length > 0 ? { cc: m.cc } : {}), subject: m.subject, text: m.text };
}

/** Mail through the SMTP server of `url` (smtp://user:pass@host:port, smtps://…; nodemailer's URL form). */
export function smtpMailer(url: string, options: { timeoutMs?: number } = {}): Mailer {
  const timeout = options.timeoutMs ?? 30_000;
  // A bounded wait at every step: an SMTP server that stops answering must not hold a scheduled run forever.
  const transport = nodemailer.createTransport({ url, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout });
  return {
    kind: "smtp",
    async send(messages) {
      for (const m of messages) await transport.sendMail(envelopeOf(m));
    },
    close() {
      transport.close();
    },
  };
}

/** Writes each message as `<dir>/<time>-<n>-<slug>.eml` (RFC 5322, as nodemailer would send it). */
export function dryRunMailer(dir: string, now: () => Date = () => new Date()): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  return {
    kind: "dry-run",
    async send(messages) {
      await mkdir(dir, { recursive: true });
      const stamp = now().toISOString().replace(/[-:.]/g, "");
      let n = 0;
      for (const m of messages) {
        const info = await transport.sendMail(envelopeOf(m));
        const slug = m.subject.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 60);
        // The random part keeps two runs in the same millisecond apart.
        const file = path.join(dir, `${stamp}-${String(++n).padStart(4, "0")}-${randomBytes(3).toString("hex")}-${slug}.eml`);
        await writeFile(file, info.message as Buffer, { mode: 0o640 });
      }
    },
    close() {
      transport.close();
    },
  };
}

/** The mailer the configuration asks for. */
export function mailerFor(config: { smtpUrl?: string; dryRunDir: string }): Mailer {
  return config.smtpUrl ? smtpMailer(config.smtpUrl) : dryRunMailer(config.dryRunDir);
}

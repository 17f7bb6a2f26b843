import { type Logger, pino } from "pino";

export type { Logger };

/**
 * JSON lines in production; pretty lines in development when pino-pretty (a dev dependency) is installed.
 * Secrets never reach the logger: callers log masked contact details and no credentials,
 * and `redact` is the backstop for fields that would carry them by mistake.
 */
export function createLogger(options: { name: string; level: string; pretty: boolean }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: {
      paths: [
        "apiKey",
        "authorization",
        "*.authorization",
        "headers.authorization",
        "password",
        "*.password",
        "token",
        "*.token",
      ],
      censor: "***",
    },
    ...(options.pretty
      ? { transport: { target: "pino-pretty", options: { translateTime: "HH:MM:ss.l" } } }
      : {}),
  });
}

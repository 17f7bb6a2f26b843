import { type Logger, pino } from "pino";
import { redactContacts } from "./mask.js";
import { activeTraceFields, tracingEnabled } from "./tracing.js";

export type { Logger };

/**
 * A log object with every string's email addresses and phone numbers masked. Copied only where
 * something changes: a line without contact details (most of them, every request line) costs a
 * walk over its values and no allocation.
 */
function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactContacts(value);
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return redactValue(serializeError(value), depth + 1);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, index) => {
      const redacted = redactValue(item, depth + 1);
      if (redacted === item) return;
      copy ??= [...value];
      copy[index] = redacted;
    });
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const redacted = redactValue(item, depth + 1);
    if (redacted === item) continue;
    copy ??= { ...value };
    copy[key] = redacted;
  }
  return copy ?? value;
}

/**
 * pino's error serializer, without ioredis' `command` (its `args` hold the whole job: contact
 * details and amounts) and with contact details masked in the message and stack.
 */
function serializeError(error: Error): Record<string, unknown> {
  return withoutCommand(pino.stdSerializers.err(error) as unknown as Record<string, unknown>);
}

function withoutCommand(object: Record<string, unknown>): Record<string, unknown> {
  const { command: _command, ...rest } = object;
  return rest;
}

/**
 * JSON lines in production; pretty lines in development when pino-pretty (a dev dependency) is
 * installed. Contact details are masked at the source, in one place: every string of every log
 * object (provider messages, failed reasons, error messages, stacks) goes through redactContacts,
 * and errors lose ioredis' command arguments. `redact` is the backstop for credentials.
 */
export function createLogger(
  options: {
    name: string;
    level: string;
    pretty: boolean;
    /** Adds the active span's `trace_id` and `span_id` to each line; on while tracing is on. */
    traceIds?: boolean;
  },
  /** Where lines go (stdout by default); tests pass a stream to read them. */
  destination?: pino.DestinationStream,
): Logger {
  const settings: pino.LoggerOptions = {
    name: options.name,
    level: options.level,
    serializers: {
      err: (value: unknown) =>
        value instanceof Error
          ? serializeError(value)
          : typeof value === "object" && value !== null
            ? withoutCommand(value as Record<string, unknown>)
            : value,
    },
    formatters: { log: (object) => redactValue(object) as Record<string, unknown> },
    // Logs join traces by trace_id; no mixin at all (no cost) while tracing is off.
    ...((options.traceIds ?? tracingEnabled()) ? { mixin: activeTraceFields } : {}),
    hooks: {
      // Messages are ours and static, but a caller's interpolation must not slip past.
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === "string" ? redactContacts(arg) : arg)) as Parameters<
            typeof method
          >,
        );
      },
    },
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
    ...(options.pretty && !destination
      ? { transport: { target: "pino-pretty", options: { translateTime: "HH:MM:ss.l" } } }
      : {}),
  };
  if (destination) return pino(settings, destination);
  if (options.pretty) return pino(settings);
  // Synchronous: a line is written before the call returns, so a process that dies, however it
  // dies, has written every line it logged.
  return pino(settings, pino.destination({ dest: 1, sync: true }));
}

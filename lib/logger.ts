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
  const buffered = destination || options.pretty ? undefined : stdoutStream();
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
      logMethod(args, method, level) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === "string" ? redactContacts(arg) : arg)) as Parameters<
            typeof method
          >,
        );
        // A warning or an error goes out now, with what is pending before it: a process that
        // then dies where pino cannot write (the V8 heap limit) has written it.
        if (buffered && level >= WARN_LEVEL) buffered.flush();
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
  const stream = destination ?? buffered;
  return stream ? pino(settings, stream) : pino(settings);
}

/** pino's own number for `warn`. */
const WARN_LEVEL = pino.levels.values.warn ?? 40;

/**
 * Where a process's lines go: stdout, buffered. An info line waits until 4 KB are pending or
 * 100 ms have passed, so a busy gateway makes one write for many lines instead of one each (about
 * 7 % of its CPU a request at `info`, side by side at a fixed rate); a warning or an error is sent
 * at once (createLogger's hook). pino writes what is pending when the process exits, after an
 * uncaught error too (in the main thread; the service logs from no other). An end pino cannot
 * see (SIGKILL, the kernel's out-of-memory killer, V8's heap limit, a native crash) loses the info
 * lines still pending: the last 100 ms of them while stdout's reader keeps up, more when it lags.
 */
function stdoutStream() {
  return pino.destination({ dest: 1, minLength: 4096, periodicFlush: 100 });
}

/**
 * A logger on `logger`'s stream, with its name, level and trace ids, for lines whose every value
 * the service makes itself (the gateway's request line: its id, the method, the route pattern,
 * the status, the duration). It skips the redaction paths, the masking of contact details and
 * the hooks, which cost about 3 % of the gateway's CPU a request at `info`; anything a caller, a
 * provider or an error brings goes through `logger`.
 */
export function ownValuesLogger(logger: Logger): Logger {
  const { name } = logger.bindings();
  // pino.symbols: what pino exports for code that builds on a logger (its stream, its mixin).
  const internals = logger as unknown as {
    [pino.symbols.mixinSym]?: pino.LoggerOptions["mixin"];
    [pino.symbols.streamSym]: pino.DestinationStream;
  };
  const mixin = internals[pino.symbols.mixinSym];
  const own = pino(
    { name, level: logger.level, ...(mixin ? { mixin } : {}) },
    internals[pino.symbols.streamSym],
  );
  // Its level follows `logger`'s, should anything change it at run time.
  logger.on("level-change", (level, _value, _previous, _previousValue, changed) => {
    // A child's change is emitted here too: only `logger`'s own counts.
    if (changed === logger) own.level = level;
  });
  return own;
}

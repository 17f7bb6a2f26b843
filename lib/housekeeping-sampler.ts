/**
 * Drops BullMQ's own housekeeping spans. With telemetry on, a worker traces its timers too: the
 * stalled-job check on every WORKER_STALLED_INTERVAL_MS, lock renewals while jobs run, and
 * getNextJob where it is called. Each would be a trace of its own with no request in it, so a
 * traced idle worker would fill a collector with them. Only roots are dropped: inside a
 * notification's trace a span keeps whatever the wrapped sampler decides.
 */
import { type Attributes, type Context, type Link, type SpanKind, trace } from "@opentelemetry/api";
import { type Sampler, SamplingDecision, type SamplingResult } from "@opentelemetry/sdk-trace";

/** BullMQ's operations that no notification starts (span name `<operation> <queue>`). */
const HOUSEKEEPING = new Set([
  "getNextJob",
  "moveStalledJobsToWait",
  "startStalledCheckTimer",
  "extendLocks",
]);

/** `sampler`, except that a housekeeping span with no parent is never recorded. */
export function withoutHousekeeping(sampler: Sampler): Sampler {
  return {
    shouldSample(
      context: Context,
      traceId: string,
      spanName: string,
      spanKind: SpanKind,
      attributes: Attributes,
      links: Link[],
    ): SamplingResult {
      const operation = spanName.split(" ", 1)[0] ?? "";
      if (HOUSEKEEPING.has(operation) && !trace.getSpanContext(context)) {
        return { decision: SamplingDecision.NOT_RECORD };
      }
      return sampler.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    },
    toString: () => `WithoutHousekeeping{${sampler.toString()}}`,
  };
}

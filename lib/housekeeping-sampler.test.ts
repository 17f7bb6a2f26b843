import { randomUUID } from "node:crypto";
import { ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  SamplingDecision,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace";
import { Queue, Worker } from "bullmq";
import { describe, expect, it, vi } from "vitest";
import { redisUrl } from "../test/fixtures.js";
import { eventually } from "../test/support/wait.js";
import { withoutHousekeeping } from "./housekeeping-sampler.js";
import { bullmqTelemetry, startTracing } from "./tracing.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

function decide(spanName: string, context = ROOT_CONTEXT) {
  return withoutHousekeeping(new AlwaysOnSampler()).shouldSample(
    context,
    TRACE_ID,
    spanName,
    SpanKind.INTERNAL,
    {},
    [],
  ).decision;
}

describe("BullMQ's housekeeping spans are dropped", () => {
  it("drops them as roots and keeps them inside a trace, and keeps every other span", () => {
    expect(decide("moveStalledJobsToWait notifications")).toBe(SamplingDecision.NOT_RECORD);
    expect(decide("extendLocks notifications")).toBe(SamplingDecision.NOT_RECORD);
    expect(decide("getNextJob notifications")).toBe(SamplingDecision.NOT_RECORD);
    expect(decide("add notifications")).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    const inTrace = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE_ID,
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
    });
    expect(decide("extendLocks notifications", inTrace)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it("exports no span from a traced worker's stalled-job checks, and its job's spans", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await startTracing("notifications-worker", {
      env: {},
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const name = `housekeeping-${randomUUID()}`;
    const connection = { url: redisUrl() };
    const queue = new Queue(name, { connection, telemetry: bullmqTelemetry() });
    const worker = new Worker(name, async () => "done", {
      connection,
      telemetry: bullmqTelemetry(),
      stalledInterval: 50,
    });
    // Protected in BullMQ's types; the stalled-job timer calls it on the instance.
    const checked = worker as unknown as { moveStalledJobsToWait(): Promise<void> };
    const checks = vi.spyOn(checked, "moveStalledJobsToWait");
    try {
      const done = new Promise((resolve) => worker.once("completed", resolve));
      await queue.add("job", {});
      await done;
      await eventually(() => expect(checks.mock.calls.length).toBeGreaterThanOrEqual(3));
      // Each check's span has ended once its call resolved.
      await Promise.all(checks.mock.results.slice(0, 3).map((result) => result.value));
      const names = exporter.getFinishedSpans().map((span) => span.name);
      // The job's three spans, and none of the checks' (nor the timer's start).
      expect(names.sort()).toEqual([`add ${name}.job`, `complete ${name}`, `process ${name}`]);
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await tracing?.shutdown();
    }
  });
});

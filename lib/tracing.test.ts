import { Writable } from "node:stream";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import {
  bullmqTelemetry,
  getTracer,
  inSpan,
  startTracing,
  tracingConfigured,
  tracingEnabled,
} from "./tracing.js";
import { samplerFrom } from "./tracing-sdk.js";

function capture(traceIds?: boolean) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const options = { name: "test", level: "info", pretty: false };
  const logger = createLogger(traceIds === undefined ? options : { ...options, traceIds }, stream);
  return { logger, lines: () => lines.map((line) => JSON.parse(line)) };
}

describe("tracing is off unless configured", () => {
  it("reads the standard variables", () => {
    expect(tracingConfigured({})).toBe(false);
    expect(tracingConfigured({ OTEL_SERVICE_NAME: "x" })).toBe(false);
    expect(tracingConfigured({ OTEL_TRACES_EXPORTER: "none" })).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(true);
    expect(tracingConfigured({ OTEL_TRACES_EXPORTER: "console" })).toBe(true);
    expect(samplerFrom({}).toString()).toContain("ParentBased");
    expect(
      samplerFrom({
        OTEL_TRACES_SAMPLER: "traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.25",
      }).toString(),
    ).toContain("0.25");
    expect(() => samplerFrom({ OTEL_TRACES_SAMPLER: "jaeger_remote" })).toThrow(
      /OTEL_TRACES_SAMPLER/,
    );
  });

  it("registers nothing when unset: no tracer, no BullMQ telemetry, no log fields", async () => {
    expect(await startTracing("notifications-gateway", { env: {} })).toBeUndefined();
    expect(tracingEnabled()).toBe(false);
    expect(bullmqTelemetry()).toBeUndefined();
    expect(getTracer().startSpan("x").isRecording()).toBe(false);
    expect(await inSpan("x", {}, async (span) => span)).toBeUndefined();
    const { logger, lines } = capture();
    logger.info("hello");
    expect(lines()[0]).not.toHaveProperty("trace_id");
  });

  it("puts the active span's ids on log lines while tracing is on", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await startTracing("notifications-worker", {
      env: {},
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    try {
      expect(tracingEnabled()).toBe(true);
      const { logger, lines } = capture();
      const ids = await inSpan("work", {}, async (span) => {
        logger.info("inside");
        return span?.spanContext();
      });
      logger.info("outside");
      const [inside, outside] = lines();
      expect(inside).toMatchObject({ trace_id: ids?.traceId, span_id: ids?.spanId });
      expect(outside).not.toHaveProperty("trace_id");
      const [span] = exporter.getFinishedSpans();
      expect(span?.resource.attributes["service.name"]).toBe("notifications-worker");
    } finally {
      await tracing?.shutdown();
    }
    expect(tracingEnabled()).toBe(false);
  });
});

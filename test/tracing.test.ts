import { SpanKind } from "@opentelemetry/api";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTIFICATION_QUEUE } from "../contract/notification-job.js";
import { requestTracing } from "../gateway/tracing.js";
import { bullmqTelemetry, startTracing, type Tracing } from "../lib/tracing.js";
import { resendError } from "./fakes/resend.js";
import { gatewayOver, VALID_NOTIFICATION } from "./gateway-fixture.js";
import { startWorkerHarness, type WorkerHarness, waitForFinished } from "./worker-fixture.js";

// One trace from the caller's traceparent to the provider calls: gateway and worker in-process,
// one tracer provider with an in-memory exporter (each test file runs in its own worker).
const exporter = new InMemorySpanExporter();
let tracing: Tracing | undefined;
let harness: WorkerHarness;
let tracedQueue: Queue;

beforeAll(async () => {
  tracing = await startTracing("notifications-test", {
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  harness = await startWorkerHarness({ telemetry: bullmqTelemetry() });
  const telemetry = bullmqTelemetry();
  tracedQueue = new Queue(NOTIFICATION_QUEUE, {
    connection: harness.redis,
    prefix: harness.prefix,
    ...(telemetry ? { telemetry } : {}),
  });
});

afterAll(async () => {
  await tracedQueue?.close();
  await harness?.stop();
  await tracing?.shutdown();
});

const INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const INCOMING_SPAN = "00f067aa0ba902b7";

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

describe("tracing across gateway, queue and worker", () => {
  it("continues the caller's trace to each attempt and provider call, without contacts", async () => {
    const gateway = gatewayOver(
      { ...harness, queue: tracedQueue },
      { requestTracing: requestTracing() },
    );
    // The first email call fails with a 500: the job's second attempt sends it again.
    harness.resend.script.failNext(resendError("internal_server_error"));

    const response = await gateway.post(VALID_NOTIFICATION, {
      traceparent: `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01`,
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const job = await waitForFinished(harness.queue, id);
    expect(job.attemptsMade).toBe(2);

    // Spans end after the job's state is written: wait for the last provider call's.
    const inTrace = () =>
      exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === INCOMING_TRACE);
    await expect.poll(() => inTrace().filter((s) => s.name.startsWith("send ")).length).toBe(3);
    await expect.poll(() => inTrace().filter((s) => s.name.startsWith("process ")).length).toBe(2);
    const spans = inTrace();

    // HTTP server span: a child of the caller's span; the response names it.
    const http = spans.find((s) => s.kind === SpanKind.SERVER);
    expect(http?.name).toBe("POST /notifications");
    if (!http) throw new Error("no HTTP span");
    expect(parentOf(http)).toBe(INCOMING_SPAN);
    expect(http.attributes["http.response.status_code"]).toBe(202);
    expect(response.headers.get("traceparent")).toBe(`00-${INCOMING_TRACE}-${idOf(http)}-01`);

    // The enqueue, and BullMQ's add inside it.
    const enqueue = spans.find((s) => s.name === "enqueue");
    if (!enqueue) throw new Error("no enqueue span");
    expect(parentOf(enqueue)).toBe(idOf(http));
    expect(enqueue.attributes["notification.count"]).toBe(1);
    const add = spans.find((s) => s.kind === SpanKind.PRODUCER && s.name.startsWith("add "));
    if (!add) throw new Error("no add span");
    expect(add.name).toBe(`add ${NOTIFICATION_QUEUE}.${job.name}`);
    expect(parentOf(add)).toBe(idOf(enqueue));
    expect(add.attributes["bullmq.job.id"]).toBe(id);

    // One CONSUMER span per attempt, each a child of the add (the job carries its context).
    const attempts = spans
      .filter((s) => s.kind === SpanKind.CONSUMER && s.name === `process ${NOTIFICATION_QUEUE}`)
      .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(parentOf(attempt)).toBe(idOf(add));
      expect(attempt.attributes["bullmq.job.id"]).toBe(id);
    }
    const [first, second] = attempts as [ReadableSpan, ReadableSpan];

    // Provider calls: email (500, transient) and SMS in the first attempt, email in the second.
    const sends = spans.filter((s) => s.name.startsWith("send "));
    const callsOf = (attempt: ReadableSpan) =>
      sends
        .filter((s) => parentOf(s) === idOf(attempt))
        .map((s) => s.attributes)
        .sort((a, b) =>
          String(a["notification.channel"]).localeCompare(String(b["notification.channel"])),
        );
    const common = { "notification.id": id };
    expect(callsOf(first)).toEqual([
      {
        ...common,
        "notification.provider": "resend",
        "notification.channel": "email",
        "notification.attempt": 1,
        "notification.outcome": "transient",
        "error.type": "internal_server_error",
      },
      {
        ...common,
        "notification.provider": "twilio",
        "notification.channel": "sms",
        "notification.attempt": 1,
        "notification.outcome": "sent",
        "notification.provider_message_id": expect.stringMatching(/^SM/),
      },
    ]);
    expect(callsOf(second)).toEqual([
      {
        ...common,
        "notification.provider": "resend",
        "notification.channel": "email",
        "notification.attempt": 2,
        "notification.outcome": "sent",
        "notification.provider_message_id": expect.any(String),
      },
    ]);
    for (const send of sends) expect(send.kind).toBe(SpanKind.CLIENT);

    // No span of the whole run carries the recipient's email address or phone number.
    const contacts = [VALID_NOTIFICATION.to, VALID_NOTIFICATION.phone, "2025550143"];
    for (const span of exporter.getFinishedSpans()) {
      const text = JSON.stringify({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
      });
      for (const contact of contacts) expect(text).not.toContain(contact);
    }
  });
});

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../scripts/redis-server.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { eventually, redisUrl } from "./fixtures.js";
import { postNotification, TEST_API_KEY, VALID_NOTIFICATION } from "./gateway-fixture.js";
import { type OtlpCollector, startOtlpCollector } from "./support/otlp-collector.js";
import { type ServiceProcess, startService, waitForGatewayReady } from "./support/processes.js";
import { providerEnv } from "./worker-fixture.js";

// Real processes with tracing on: the gateway exports OTLP/JSON, the worker OTLP/protobuf.
describe("tracing in the gateway and worker processes", () => {
  let collector: OtlpCollector;
  let resend: FakeResend;
  let twilio: FakeTwilio;
  let gateway: ServiceProcess;
  let worker: ServiceProcess;
  let baseUrl: string;

  beforeAll(async () => {
    collector = await startOtlpCollector();
    resend = await startFakeResend();
    twilio = await startFakeTwilio();
    const port = await freePort();
    const shared = {
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: `e2e-${randomUUID()}`,
      LOG_LEVEL: "info",
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    };
    gateway = startService("gateway", {
      ...shared,
      PORT: String(port),
      API_KEYS: TEST_API_KEY,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    });
    worker = startService("worker", {
      ...shared,
      ...providerEnv(resend, twilio),
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    });
    await waitForGatewayReady(gateway, port);
    await worker.waitForLine(/worker ready/);
    baseUrl = `http://127.0.0.1:${port}`;
    // Both processes load the tracing SDK from source (tsx): in the full suite, with the other
    // files' processes starting too, that took over the 30 s default once (a fresh-clone CI run).
    // Longer than the waits above, so that theirs is the error that names what did not come.
  }, 120_000);

  afterAll(async () => {
    await Promise.all([gateway?.stop("SIGKILL"), worker?.stop("SIGKILL")]);
    await Promise.all([resend?.close(), twilio?.close(), collector?.close()]);
  });

  it("exports one trace from both services, and logs carry its trace id", async () => {
    const traceId = randomUUID().replaceAll("-", "");
    const response = await postNotification(baseUrl, VALID_NOTIFICATION, {
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });
    expect(response.status).toBe(202);
    expect(response.headers.get("traceparent")).toMatch(
      new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`),
    );
    await eventually(() => expect(twilio.messages).toHaveLength(1), { timeout: 15_000 });

    // SIGTERM flushes what the batch processors still hold.
    expect(await worker.stop("SIGTERM")).toBe(0);
    expect(await gateway.stop("SIGTERM")).toBe(0);
    const json = collector.exports.filter((e) => e.contentType.includes("json"));
    const proto = collector.exports.filter((e) => e.contentType.includes("protobuf"));
    const jsonText = json.map((e) => e.body.toString()).join("\n");
    expect(jsonText).toContain('"notifications-gateway"');
    expect(jsonText).toContain(traceId);
    const protoBytes = Buffer.concat(proto.map((e) => e.body));
    expect(protoBytes.includes(Buffer.from("notifications-worker"))).toBe(true);
    expect(protoBytes.includes(Buffer.from(traceId, "hex"))).toBe(true);
    for (const body of [jsonText, protoBytes.toString("latin1")]) {
      expect(body).not.toContain(VALID_NOTIFICATION.to);
      expect(body).not.toContain(VALID_NOTIFICATION.phone);
    }

    // The POST's request line (readiness probes before it have lines, and traces, of their own).
    // Lines reach stdout up to 100 ms late (lib/logger.ts): wait for the two this test reads.
    await gateway.waitForLine(
      /"route":"\/notifications".*"trace_id"|"trace_id".*"route":"\/notifications"/,
    );
    await worker.waitForLine(/"msg":"sent"/);
    const traced = (lines: string[], msg: string, route?: string) =>
      lines
        .map((line) => JSON.parse(line))
        .find(
          (line) =>
            line.msg === msg && line.trace_id && (route === undefined || line.route === route),
        );
    expect(traced(gateway.lines, "request", "/notifications")?.trace_id).toBe(traceId);
    expect(traced(worker.lines, "sent")?.trace_id).toBe(traceId);
  });
});

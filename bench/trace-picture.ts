/**
 * `npm run trace-picture`: captures one real trace and draws it as docs/images/trace.png.
 *
 * A gateway and a worker process (from source) export OTLP/JSON to a stand-in collector; the fake
 * Resend fails the first email call with a 500, so the job's second attempt shows as a second
 * `process` span. The spans of that one trace become a waterfall page (bench/trace-waterfall.ts),
 * which Debian's Chromium screenshots. Here rather than in scripts/ because it drives the test
 * harness and fakes, and scripts/ does not import test/.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { freePort } from "../scripts/redis-server.js";
import { launchChromium } from "../test/browser.js";
import { resendError, startFakeResend } from "../test/fakes/resend.js";
import { startFakeTwilio } from "../test/fakes/twilio.js";
import { startOtlpCollector } from "../test/support/otlp-collector.js";
import { startService } from "../test/support/processes.js";
import { eventually } from "../test/support/wait.js";
import { providerEnv } from "../test/worker-fixture.js";
import { startRedis } from "./support.js";
import { spansOfTrace, waterfallHtml } from "./trace-waterfall.js";

const OUTPUT = "docs/images/trace.png";
const API_KEY = "trace-picture-key-0123456789abcdef";
/** Provider answer times: the fakes answer at once, real providers take tens of milliseconds. */
const RESEND_LATENCY_MS = 60;
const TWILIO_LATENCY_MS = 90;
/** The retry's backoff, short so the picture's time axis still shows the spans (default 2 s). */
const BACKOFF_MS = 150;

/** Sends a notification in trace `traceId` and waits until it is the `sent`-th email and SMS. */
async function notify(port: number, traceId: string, sent: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/notifications`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${API_KEY}`,
      "content-type": "application/json",
      // As the exchange's backend would send it: its own span is the trace's root.
      traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01`,
    },
    body: JSON.stringify({
      to: `user${sent}@example.com`,
      phone: "+12025550143",
      asset: "BTC",
      amount: 1000,
      quantity: 0.02,
      order: `order-id-${sent}`,
    }),
  });
  if (response.status !== 202) throw new Error(`POST /notifications: ${response.status}`);
  await eventually(
    () => {
      if (resend.emails.length !== sent || twilio.messages.length !== sent) {
        throw new Error(`${resend.emails.length} emails, ${twilio.messages.length} SMS sent`);
      }
    },
    { timeout: 20_000 },
  );
}

const log = (message: string) => process.stdout.write(`[trace-picture] ${message}\n`);

const redis = await startRedis();
const collector = await startOtlpCollector();
const resend = await startFakeResend({ latencyMs: RESEND_LATENCY_MS });
const twilio = await startFakeTwilio({ latencyMs: TWILIO_LATENCY_MS });
const port = await freePort();
const shared = {
  REDIS_URL: redis.url,
  LOG_LEVEL: "info",
  OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
  OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
};
const gateway = startService("gateway", {
  ...shared,
  PORT: String(port),
  METRICS_PORT: "0",
  API_KEYS: API_KEY,
});
const worker = startService("worker", {
  ...shared,
  ...providerEnv(resend, twilio),
  WORKER_HEALTH_PORT: "0",
  JOB_BACKOFF_DELAY_MS: String(BACKOFF_MS),
});
try {
  await gateway.waitForLine(/gateway listening/, 30_000);
  await worker.waitForLine(/worker ready/, 30_000);
  // A first notification warms both processes (their first provider calls load the SDKs), so
  // the picture shows a running service; the second one is drawn.
  await notify(port, randomBytes(16).toString("hex"), 1);
  resend.script.failNext(resendError("internal_server_error"));
  const traceId = randomBytes(16).toString("hex");
  await notify(port, traceId, 2);
  // SIGTERM flushes the spans the batch processors still hold.
  await Promise.all([worker.stop("SIGTERM"), gateway.stop("SIGTERM")]);
  const spans = spansOfTrace(
    collector.exports.map((e) => e.body.toString()),
    traceId,
  );
  log(`${spans.length} spans in trace ${traceId}`);
  const html = waterfallHtml(
    spans,
    `The second POST /notifications after start, with the caller's traceparent; Resend answered the first email call 500, so the job ran twice. Real gateway and worker processes, OTLP/JSON; fake providers answering after ${RESEND_LATENCY_MS} ms (Resend) and ${TWILIO_LATENCY_MS} ms (Twilio); retry backoff ${BACKOFF_MS} ms.`,
  );
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1290, height: 100 } });
    await page.setContent(html);
    mkdirSync("docs/images", { recursive: true });
    await page.screenshot({ path: OUTPUT, fullPage: true });
  } finally {
    await browser.close();
  }
  log(`wrote ${OUTPUT}`);
} finally {
  await Promise.all([gateway.stop("SIGKILL"), worker.stop("SIGKILL")]);
  await Promise.all([resend.close(), twilio.close(), collector.close()]);
  await redis.stop();
}
process.exit(0);

import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TRADE_DIGEST_JOB } from "../contract/digest.js";
import { NOTIFICATION_QUEUE } from "../contract/notification-job.js";
import { createProducerConnection } from "../lib/redis.js";
import { freePort } from "../scripts/redis-server.js";
import { type FakeResend, startFakeResend } from "./fakes/resend.js";
import { type FakeTwilio, startFakeTwilio } from "./fakes/twilio.js";
import { eventually, redisUrl } from "./fixtures.js";
import { postNotification, TEST_API_KEY } from "./gateway-fixture.js";
import { type ServiceProcess, startService, waitForGatewayReady } from "./support/processes.js";
import { providerEnv } from "./worker-fixture.js";

/** A gateway and a worker on a private prefix with the fake providers; `workerEnv` adds to the worker's. */
async function startPipeline(
  workerEnv: Record<string, string> = {},
  twilioOptions: Parameters<typeof startFakeTwilio>[0] = {},
) {
  const resend = await startFakeResend();
  const twilio = await startFakeTwilio(twilioOptions);
  const port = await freePort();
  const shared = { REDIS_URL: redisUrl(), QUEUE_PREFIX: `e2e-${randomUUID()}` };
  const gateway = startService("gateway", {
    ...shared,
    PORT: String(port),
    API_KEYS: TEST_API_KEY,
  });
  const env = {
    ...shared,
    ...providerEnv(resend, twilio),
    // Fill jobs count against the queue's job rate like any job: 10 a second (the default)
    // would queue 40 fills in 2 s for 4 s, the final one last. 20 fills a second need 20.
    RATE_LIMIT_PER_SECOND: "100",
    ...workerEnv,
  };
  const workers: ServiceProcess[] = [];
  const startWorker = async () => {
    const worker = startService("worker", env);
    workers.push(worker);
    await worker.waitForLine(/worker ready/);
    return worker;
  };
  await waitForGatewayReady(gateway, port);
  await startWorker();
  const redis = createProducerConnection(redisUrl());
  const queue = new Queue(NOTIFICATION_QUEUE, { connection: redis, prefix: shared.QUEUE_PREFIX });
  return {
    resend,
    twilio,
    queue,
    redis,
    prefix: shared.QUEUE_PREFIX,
    baseUrl: `http://127.0.0.1:${port}`,
    workers,
    startWorker,
    async stop() {
      await Promise.all([gateway, ...workers].map((process) => process.stop("SIGKILL")));
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await redis.quit();
      await Promise.all([resend.close(), twilio.close()]);
    },
  };
}
type Pipeline = Awaited<ReturnType<typeof startPipeline>>;

/** A recipient of the test's own, so messages are counted per test. */
function customer() {
  // North American numbers: the exchange (after the area code) must not start with 0 or 1.
  const digits = String(Math.floor(Math.random() * 1e5)).padStart(5, "0");
  return { phone: `+120255${digits}`, to: `${randomUUID()}@example.com` };
}

/**
 * Fill `index` (1-based) of a buy order: 0.02 or 0.03 BTC (odd, even) at 40,000 + index USD, the
 * amount being their exact product. Forty of them: 1 BTC for 40,020.60 USD, averaging 40,020.60.
 */
function fill(order: string, index: number, final = false) {
  const price = 40_000 + index;
  const hundredths = index % 2 === 1 ? 2 : 3;
  const cents = price * hundredths; // price × quantity × 100
  return {
    asset: "BTC",
    side: "buy",
    currency: "USD",
    order,
    quantity: `0.0${hundredths}`,
    price: String(price),
    amount: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`,
    fill: { id: `${order}-fill-${index}`, final },
  };
}

async function post(pipeline: Pipeline, body: object, headers: Record<string, string> = {}) {
  const response = await postNotification(pipeline.baseUrl, body, headers);
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

interface Status {
  status: string;
  channels: Record<string, { status: string; digestId?: string; providerId?: string }>;
}

async function statusOf(pipeline: Pipeline, id: string): Promise<Status> {
  const response = await fetch(`${pipeline.baseUrl}/notifications/${id}`, {
    headers: { authorization: `Bearer ${TEST_API_KEY}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Status;
}

/** Waits until every notification completed; answers their statuses. */
function completed(pipeline: Pipeline, ids: string[], timeout = 15_000) {
  return eventually(
    async () => {
      const statuses = await Promise.all(ids.map((id) => statusOf(pipeline, id)));
      for (const status of statuses) expect(status.status).toBe("completed");
      return statuses;
    },
    { timeout },
  );
}

function smsTo(twilio: FakeTwilio, phone: string) {
  return twilio.messages.filter((message) => message.to === phone);
}

function emailsTo(resend: FakeResend, address: string) {
  return resend.emails.filter((email) => [email.to].flat().includes(address));
}

async function digestJobs(pipeline: Pipeline) {
  const jobs = await pipeline.queue.getJobs([
    "completed",
    "delayed",
    "waiting",
    "active",
    "failed",
  ]);
  return jobs.filter((job) => job.name === TRADE_DIGEST_JOB);
}

/** A counter's value on the first worker's /metrics, 0 while unset. */
async function metric(pipeline: Pipeline, series: string): Promise<number> {
  const line = await pipeline.workers[0]?.waitForLine(/worker health and metrics listening/);
  const { port } = JSON.parse(line ?? "{}") as { port: number };
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const escaped = series.replace(/[{}]/g, "\\$&");
  return Number(new RegExp(`^${escaped} (\\d+)`, "m").exec(text)?.[1] ?? 0);
}

const DIGEST_METRICS = [
  'notification_digest_fills_total{channel="sms"}',
  'notification_digests_sent_total{channel="sms"}',
  'notification_digest_messages_saved_total{channel="sms"}',
];

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("digests of partial fills, as real processes (SMS digested by default)", () => {
  let pipeline: Pipeline;
  beforeAll(async () => {
    pipeline = await startPipeline();
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  it("sends one SMS for 40 fills in 2 s, within 1 s of the final fill, with count, total and average price", async () => {
    const { phone } = customer();
    const order = `ord-${randomUUID()}`;
    const ids: string[] = [];
    const before = await Promise.all(DIGEST_METRICS.map((series) => metric(pipeline, series)));
    let finalPostedAt = 0;
    for (let index = 1; index <= 40; index++) {
      const final = index === 40;
      ids.push(await post(pipeline, { ...fill(order, index, final), phone }));
      if (final) finalPostedAt = Date.now();
      // 40 fills over about 2 s: one every 50 ms.
      else await pause(50);
    }
    const [sms] = await eventually(() => {
      const messages = smsTo(pipeline.twilio, phone);
      expect(messages).toHaveLength(1);
      return messages;
    });
    expect(sms?.receivedAt).toBeLessThan(finalPostedAt + 1000);
    expect(sms?.body).toBe(
      `Exchange: You bought 1 BTC for $40,020.60 in 40 fills, avg price $40,020.60. Order ${order}`,
    );

    // Every fill went into that one digest, which is the notification that sent the SMS.
    const statuses = await completed(pipeline, ids);
    const digestIds = new Set(statuses.map((status) => status.channels.sms?.digestId));
    expect(statuses.map((status) => status.channels.sms?.status)).toEqual(
      Array(40).fill("digested"),
    );
    expect(digestIds.size).toBe(1);
    const [digestId] = [...digestIds];
    expect(await statusOf(pipeline, String(digestId))).toMatchObject({
      status: "completed",
      channels: { sms: { status: "sent", providerId: sms?.sid }, email: { status: "skipped" } },
    });
    // 40 fills collected, 1 digest sent, 39 messages saved.
    await eventually(async () => {
      const after = await Promise.all(DIGEST_METRICS.map((series) => metric(pipeline, series)));
      expect(after.map((value, index) => value - (before[index] ?? 0))).toEqual([40, 1, 39]);
    });
    expect(smsTo(pipeline.twilio, phone)).toHaveLength(1);
  });

  it("sends two digests when the fills are spread past the window, and each fill's email alone", async () => {
    const { phone, to } = customer();
    const order = `ord-${randomUUID()}`;
    // This request's own window: a digest goes 1 s after the last fill.
    const digest = { sms: { windowMs: 1000 } };
    const first: string[] = [];
    for (const index of [1, 2, 3])
      first.push(await post(pipeline, { ...fill(order, index), phone, to, digest }));
    const lastOfFirst = Date.now();
    const [one] = await eventually(() => {
      const messages = smsTo(pipeline.twilio, phone);
      expect(messages).toHaveLength(1);
      return messages;
    });
    // No final fill: the window sent it.
    expect(one?.receivedAt).toBeGreaterThanOrEqual(lastOfFirst + 900);
    expect(one?.body).toBe(
      `Exchange: You bought 0.07 BTC for $2,800.14 in 3 fills, avg price $40,002.00. Order ${order}`,
    );
    const second: string[] = [];
    for (const index of [4, 5])
      second.push(await post(pipeline, { ...fill(order, index), phone, to, digest }));
    const messages = await eventually(() => {
      const both = smsTo(pipeline.twilio, phone);
      expect(both).toHaveLength(2);
      return both;
    });
    // 0.03 at 40,004 and 0.02 at 40,005.
    expect(messages[1]?.body).toBe(
      `Exchange: You bought 0.05 BTC for $2,000.22 in 2 fills, avg price $40,004.40. Order ${order}`,
    );
    const [a, b] = await Promise.all([completed(pipeline, first), completed(pipeline, second)]);
    expect(new Set(a.map((status) => status.channels.sms?.digestId)).size).toBe(1);
    expect(new Set(b.map((status) => status.channels.sms?.digestId)).size).toBe(1);
    expect(a[0]?.channels.sms?.digestId).not.toBe(b[0]?.channels.sms?.digestId);
    // Emails are sent per fill unless configured otherwise.
    expect(emailsTo(pipeline.resend, to)).toHaveLength(5);
    expect([...a, ...b].map((status) => status.channels.email?.status)).toEqual(
      Array(5).fill("sent"),
    );
  });

  it("counts a fill posted twice once and sends its email once, with or without an Idempotency-Key", async () => {
    const { phone, to } = customer();
    const order = `ord-${randomUUID()}`;
    const key = randomUUID();
    const body = { ...fill(order, 1), phone, to };
    const original = await post(pipeline, body, { "idempotency-key": key });
    const sameKey = await post(pipeline, body, { "idempotency-key": key });
    expect(sameKey).toBe(original);
    // Without a key (a backend's retry), the fill's own identity answers the first id.
    const resent = await post(pipeline, body);
    expect(resent).not.toBe(original);
    expect(await post(pipeline, body)).toBe(resent);
    await completed(pipeline, [original, resent]);
    const last = await post(pipeline, { ...fill(order, 2, true), phone, to });
    const [sms] = await eventually(() => {
      const messages = smsTo(pipeline.twilio, phone);
      expect(messages).toHaveLength(1);
      return messages;
    });
    // 0.02 at 40,001 and 0.03 at 40,002: 0.05 BTC for 2,000.08.
    expect(sms?.body).toBe(
      `Exchange: You bought 0.05 BTC for $2,000.08 in 2 fills, avg price $40,001.60. Order ${order}`,
    );
    const statuses = await completed(pipeline, [original, resent, last]);
    expect(new Set(statuses.map((status) => status.channels.sms?.digestId)).size).toBe(1);
    // One email per fill: the second job of fill 1 finds it sent by the first.
    expect(emailsTo(pipeline.resend, to)).toHaveLength(2);
    expect(statuses.map((status) => status.channels.email?.status)).toEqual([
      "sent",
      "skipped",
      "sent",
    ]);
  });

  it("answers 409 with the error shape for a fill whose side contradicts its order's first fill", async () => {
    const { phone } = customer();
    const order = `ord-${randomUUID()}`;
    await completed(pipeline, [await post(pipeline, { ...fill(order, 1), phone })]);
    const response = await postNotification(pipeline.baseUrl, {
      ...fill(order, 2),
      side: "sell",
      phone,
    });
    expect(response.status).toBe(409);
    const { error } = (await response.json()) as {
      error: { code: string; message: string; requestId: string };
    };
    expect(error).toEqual({
      code: "CONFLICT",
      message: `Fill ${order}-fill-2 contradicts its order's first fill: side is sell, the order's is buy`,
      requestId: expect.any(String),
    });
  });

  it("answers 400 with the error shape for a digest override without fill or out of bounds", async () => {
    const { phone } = customer();
    const { fill: _fill, ...notFill } = fill(`ord-${randomUUID()}`, 1);
    for (const [body, message] of [
      [{ ...notFill, phone, digest: { sms: false } }, "digest: applies to fills only"],
      [
        { ...notFill, phone, fill: { id: "f", final: false }, digest: { sms: { windowMs: 10 } } },
        "digest.sms",
      ],
    ] as const) {
      const response = await postNotification(pipeline.baseUrl, body);
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.message).toContain(message);
    }
  });

  it("sends a fill alone when its request says digest: { sms: false }", async () => {
    const { phone } = customer();
    const order = `ord-${randomUUID()}`;
    const id = await post(pipeline, { ...fill(order, 1), phone, digest: { sms: false } });
    const [status] = await completed(pipeline, [id]);
    const [sms] = smsTo(pipeline.twilio, phone);
    expect(sms?.body).toBe(`Exchange: You bought 0.02 BTC for $800.02. Order ${order}`);
    expect(status?.channels.sms).toEqual({
      status: "sent",
      calls: 1,
      providerId: sms?.sid,
      // The worker's record of the accepted message (docs/delivery-status.md).
      delivery: expect.objectContaining({ status: "sent", providerId: sms?.sid }),
    });
  });
});

// Each of these starts a second worker after the first is killed: on a busy machine a worker takes
// seconds to start, so they get twice the suite's 30 s.
describe("digests across a worker killed while collecting or sending", () => {
  let pipeline: Pipeline;
  afterEach(async () => {
    await pipeline?.stop();
  });

  it("loses no fill and sends one digest when the worker is SIGKILLed mid-collection", async () => {
    pipeline = await startPipeline({
      WORKER_LOCK_DURATION_MS: "1000",
      WORKER_STALLED_INTERVAL_MS: "500",
      JOB_BACKOFF_DELAY_MS: "50",
    });
    const { phone } = customer();
    const order = `ord-${randomUUID()}`;
    const ids: string[] = [];
    const [doomed] = pipeline.workers;
    // Fills keep coming while the worker collects them; it dies after about half.
    for (let index = 1; index <= 39; index++) {
      ids.push(await post(pipeline, { ...fill(order, index), phone }));
      if (index === 20) {
        await eventually(async () => {
          const digested = await Promise.all(ids.slice(0, 10).map((id) => statusOf(pipeline, id)));
          expect(digested.every((status) => status.status === "completed")).toBe(true);
        });
        expect(await doomed?.stop("SIGKILL")).toBeNull();
      }
    }
    await pipeline.startWorker();
    // The fill the dead worker held comes back once its lock lapses and a stalled-job check runs;
    // the final fill goes after it. (Sent sooner, the digest would leave 200 ms later without it,
    // and the late fill would start a digest of its own, as docs/digests.md says: a worker that
    // starts in a second made that race show.)
    await completed(pipeline, ids, 20_000);
    ids.push(await post(pipeline, { ...fill(order, 40, true), phone }));
    const [sms] = await eventually(
      () => {
        const messages = smsTo(pipeline.twilio, phone);
        expect(messages).toHaveLength(1);
        return messages;
      },
      { timeout: 20_000 },
    );
    expect(sms?.body).toBe(
      `Exchange: You bought 1 BTC for $40,020.60 in 40 fills, avg price $40,020.60. Order ${order}`,
    );
    const statuses = await completed(pipeline, ids, 20_000);
    expect(new Set(statuses.map((status) => status.channels.sms?.digestId)).size).toBe(1);
    expect(await digestJobs(pipeline)).toHaveLength(1);
    expect(smsTo(pipeline.twilio, phone)).toHaveLength(1);
  }, 60_000);

  it("sends the digest once when the worker is SIGKILLed while Twilio takes the digest's SMS", async () => {
    // Twilio accepts at once but answers after 3 s: the digest job is still active then.
    pipeline = await startPipeline(
      {
        WORKER_LOCK_DURATION_MS: "1000",
        WORKER_STALLED_INTERVAL_MS: "500",
        JOB_BACKOFF_DELAY_MS: "50",
      },
      { latencyMs: 3000 },
    );
    const { phone } = customer();
    const order = `ord-${randomUUID()}`;
    const ids = [
      await post(pipeline, { ...fill(order, 1), phone }),
      await post(pipeline, { ...fill(order, 2, true), phone }),
    ];
    await eventually(() =>
      expect(pipeline.twilio.calls.filter((call) => call.to === phone)).toHaveLength(1),
    );
    expect(await pipeline.workers[0]?.stop("SIGKILL")).toBeNull();
    pipeline.twilio.state.latencyMs = 0;
    await pipeline.startWorker();
    const statuses = await completed(pipeline, ids, 20_000);
    const digestId = String(statuses[0]?.channels.sms?.digestId);
    const digest = await eventually(
      async () => {
        const status = await statusOf(pipeline, digestId);
        expect(status.status).toBe("completed");
        return status;
      },
      { timeout: 20_000 },
    );
    const messages = smsTo(pipeline.twilio, phone);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.body).toBe(
      `Exchange: You bought 0.05 BTC for $2,000.08 in 2 fills, avg price $40,001.60. Order ${order}`,
    );
    expect(digest.channels.sms).toMatchObject({ status: "sent", providerId: messages[0]?.sid });
  }, 60_000);
});

describe("with digests off (DIGEST_SMS=off)", () => {
  let pipeline: Pipeline;
  afterAll(async () => {
    await pipeline?.stop();
  });

  it("sends each fill as today: the SMS of the same notification without `fill`, no digest state", async () => {
    pipeline = await startPipeline({ DIGEST_SMS: "off" });
    const { phone } = customer();
    const order = `ord-${randomUUID()}`;
    const { fill: _fill, ...withoutFill } = fill(order, 1);
    const plain = await post(pipeline, { ...withoutFill, phone });
    const [plainStatus] = await completed(pipeline, [plain]);
    const fills = [
      await post(pipeline, { ...fill(order, 1), phone }),
      await post(pipeline, { ...fill(order, 2, true), phone }),
    ];
    const statuses = await completed(pipeline, fills);
    const messages = smsTo(pipeline.twilio, phone);
    expect(messages.map((message) => message.body)).toEqual([
      `Exchange: You bought 0.02 BTC for $800.02. Order ${order}`,
      `Exchange: You bought 0.02 BTC for $800.02. Order ${order}`,
      `Exchange: You bought 0.03 BTC for $1,200.06. Order ${order}`,
    ]);
    for (const status of [plainStatus, ...statuses]) {
      // No digest state; `delivery` is the provider's status (docs/delivery-status.md).
      expect(Object.keys(status?.channels.sms ?? {}).sort()).toEqual([
        "calls",
        "delivery",
        "providerId",
        "status",
      ]);
      expect(status?.channels.sms?.status).toBe("sent");
    }
    expect(await digestJobs(pipeline)).toHaveLength(0);
    expect(await pipeline.redis.keys(`${pipeline.prefix}:*digest*`)).toEqual([]);
  });
});

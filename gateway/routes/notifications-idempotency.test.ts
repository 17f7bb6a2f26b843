import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { notificationRequestSchema } from "../../contract/notification-job.js";
import {
  createTestGateway,
  ROTATED_API_KEY,
  TEST_API_KEY,
  type TestGateway,
  VALID_NOTIFICATION,
} from "../../test/gateway-fixture.js";
import { apiKeyId } from "../api-keys.js";
import { createIdempotencyStore, fingerprintOf, notificationIdFor } from "../idempotency.js";

let gateway: TestGateway;
beforeEach(async () => {
  gateway = await createTestGateway();
});
afterEach(async () => {
  await gateway.cleanup();
});

async function postWithKey(
  key: string,
  body: object = VALID_NOTIFICATION,
  headers: Record<string, string> = {},
) {
  const response = await gateway.post(body, { "idempotency-key": key, ...headers });
  return {
    response,
    body: (await response.json()) as { id?: string; error?: { code: string; message: string } },
  };
}

describe("Idempotency-Key", () => {
  it("returns the same id for the same key and body and enqueues one job", async () => {
    const first = await postWithKey("trade-8812-fill-1");
    const second = await postWithKey("trade-8812-fill-1");
    expect(first.response.status).toBe(202);
    expect(second.response.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    expect(first.response.headers.get("idempotent-replayed")).toBeNull();
    expect(second.response.headers.get("idempotent-replayed")).toBe("true");
    expect(await gateway.jobCount()).toBe(1);
  });

  it("treats an omitted default (currency) like the same body", async () => {
    const first = await postWithKey("k-currency");
    const second = await postWithKey("k-currency", { ...VALID_NOTIFICATION, currency: "USD" });
    expect(second.body.id).toBe(first.body.id);
  });

  it("answers 422 for the same key with a different body, and enqueues nothing more", async () => {
    await postWithKey("trade-8812-fill-1");
    const other = await postWithKey("trade-8812-fill-1", { ...VALID_NOTIFICATION, amount: 2000 });
    expect(other.response.status).toBe(422);
    expect(other.body.error).toEqual({
      code: "UNPROCESSABLE_ENTITY",
      message: "This Idempotency-Key was already used with a different request body",
      requestId: expect.any(String),
    });
    expect(await gateway.jobCount()).toBe(1);
  });

  it("answers 409 while the first request with the key is still being accepted", async () => {
    const store = createIdempotencyStore(gateway.redis, gateway.queue.qualifiedName);
    const scope = apiKeyId(TEST_API_KEY);
    const fingerprint = fingerprintOf(notificationRequestSchema.parse(VALID_NOTIFICATION));
    await store.claim(scope, "in-flight", fingerprint, notificationIdFor(scope, "in-flight"));
    const { response, body } = await postWithKey("in-flight");
    expect(response.status).toBe(409);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(body.error?.code).toBe("CONFLICT");
    expect(await gateway.jobCount()).toBe(0);
  });

  it("keeps keys of different API keys apart", async () => {
    const first = await postWithKey("shared-key");
    const second = await postWithKey("shared-key", VALID_NOTIFICATION, {
      authorization: `Bearer ${ROTATED_API_KEY}`,
    });
    expect(second.response.status).toBe(202);
    expect(second.body.id).not.toBe(first.body.id);
    expect(await gateway.jobCount()).toBe(2);
  });

  it("costs two Redis commands beyond the limit and the add: the claim and the acceptance", async () => {
    // The queue writes its metadata once, on its first add.
    expect((await gateway.post(VALID_NOTIFICATION)).status).toBe(202);
    const sent: string[] = [];
    const send = gateway.redis.sendCommand.bind(gateway.redis);
    gateway.redis.sendCommand = ((command: Parameters<typeof send>[0]) => {
      sent.push(command.name);
      return send(command);
    }) as typeof send;
    const first = await postWithKey("round-trips");
    const second = await postWithKey("round-trips-2");
    gateway.redis.sendCommand = send;
    expect(first.response.status).toBe(202);
    expect(second.response.status).toBe(202);
    // The per-key limit (rate-limiter-flexible's script), the claim with the EXISTS of the job
    // (sent whole once on this connection, then by its hash), the acceptance that records and
    // indexes the notification (sent whole by the first POST), BullMQ's addStandardJob, and the
    // confirmation.
    expect(sent).toEqual([
      ...["evalsha", "eval", "evalsha", "evalsha", "set"],
      ...["evalsha", "evalsha", "evalsha", "evalsha", "set"],
    ]);
  });

  it("answers 202 without waiting for the key's confirmation, which then lands", async () => {
    // The confirmation (the SET of the queued record) is held back: a gateway that waits for it
    // does not answer while it is held.
    const held: Array<() => void> = [];
    const send = gateway.redis.sendCommand.bind(gateway.redis);
    gateway.redis.sendCommand = ((command: Parameters<typeof send>[0]) => {
      if (command.name !== "set") return send(command);
      held.push(() => void send(command));
      return command.promise;
    }) as typeof send;

    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([
      postWithKey("answered-before-confirm"),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), 5_000);
      }),
    ]);
    clearTimeout(timer);
    expect(held).toHaveLength(1);
    expect(first?.response.status).toBe(202);
    expect(await gateway.jobCount()).toBe(1);

    // While the SET is held, a repeat finds the claim: still being accepted.
    const early = await postWithKey("answered-before-confirm");
    expect(early.response.status).toBe(409);
    expect(early.response.headers.get("retry-after")).toBe("1");

    gateway.redis.sendCommand = send;
    for (const release of held) release();
    const repeat = await postWithKey("answered-before-confirm");
    expect(repeat.response.status).toBe(202);
    expect(repeat.response.headers.get("idempotent-replayed")).toBe("true");
    expect(repeat.body.id).toBe(first?.body.id);
    expect(await gateway.jobCount()).toBe(1);
  });

  it("remembers the key for 24 hours", async () => {
    await postWithKey("ttl-check");
    const keys = await gateway.redis.keys(`${gateway.queue.qualifiedName}:idempotency:*`);
    expect(keys).toHaveLength(1);
    const ttl = await gateway.redis.ttl(keys[0] ?? "");
    expect(ttl).toBeGreaterThan(24 * 3600 - 60);
    expect(ttl).toBeLessThanOrEqual(24 * 3600);
  });

  it.each([
    ["longer than 255 characters", "k".repeat(256)],
    ["with a space", "two words"],
  ])("answers 400 for a key %s", async (_name, key) => {
    const { response, body } = await postWithKey(key);
    expect(response.status).toBe(400);
    expect(body.error?.message).toBe("idempotency-key: must be 1-255 visible ASCII characters");
    expect(await gateway.jobCount()).toBe(0);
  });
});

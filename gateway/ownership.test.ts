import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TRADE_EXECUTED_JOB } from "../contract/notification-job.js";
import { createTestQueue } from "../test/fixtures.js";
import {
  ADMIN_API_KEY,
  gatewayOver,
  ROTATED_API_KEY,
  TEST_API_KEY,
  type TestGateway,
  VALID_NOTIFICATION,
} from "../test/gateway-fixture.js";

/** Two callers: TEST_API_KEY and OTHER, a different key (not a rotation of the same one). */
const OTHER = ROTATED_API_KEY;

let gateway: TestGateway;
beforeEach(async () => {
  gateway = gatewayOver(await createTestQueue());
});
afterEach(async () => {
  await gateway.cleanup();
});

function as(key: string, method: string, path: string) {
  return gateway.app.request(path, { method, headers: { authorization: `Bearer ${key}` } });
}

async function created(key = TEST_API_KEY): Promise<string> {
  const response = await gateway.post(VALID_NOTIFICATION, { authorization: `Bearer ${key}` });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

describe("a notification belongs to the key that created it", () => {
  it("another key gets 404 to read, cancel or retry it, and the job stays as it was", async () => {
    const id = await created();
    for (const [method, path] of [
      ["GET", `/notifications/${id}`],
      ["DELETE", `/notifications/${id}`],
      ["POST", `/notifications/${id}/retry`],
    ] as const) {
      const response = await as(OTHER, method, path);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
        `No notification with id ${id}`,
      );
    }
    expect(await (await gateway.queue.getJob(id))?.getState()).toBe("waiting");
    expect((await as(TEST_API_KEY, "GET", `/notifications/${id}`)).status).toBe(200);
  });

  it("lists only the caller's own notifications; an admin key lists all", async () => {
    const mine = await created();
    const theirs = await created(OTHER);
    await gateway.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, { jobId: "direct-1" });
    const list = async (key: string) =>
      (
        (await (await as(key, "GET", "/notifications?state=queued")).json()) as {
          items: Array<{ id: string }>;
          total: number;
        }
      ).items.map((item) => item.id);
    expect(await list(TEST_API_KEY)).toEqual([mine]);
    expect(await list(OTHER)).toEqual([theirs]);
    expect((await list(ADMIN_API_KEY)).sort()).toEqual([mine, theirs, "direct-1"].sort());
  });

  it("a direct producer's job is visible to admin keys only", async () => {
    await gateway.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, { jobId: "direct-2" });
    expect((await as(TEST_API_KEY, "GET", "/notifications/direct-2")).status).toBe(404);
    expect((await as(ADMIN_API_KEY, "GET", "/notifications/direct-2")).status).toBe(200);
  });
});

describe("bounds", () => {
  it("answers 400 to a page number: pages are read by cursor", async () => {
    const response = await as(TEST_API_KEY, "GET", "/notifications?page=2");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
  });
});

describe("an Idempotency-Key whose 24 h record expired while its notification is still kept", () => {
  async function forgetKeyRecords() {
    const keys = await gateway.redis.keys(`${gateway.queue.qualifiedName}:idempotency:*`);
    expect(keys.length).toBeGreaterThan(0);
    await gateway.redis.del(...keys);
  }

  it("answers the same body with the existing notification, marked replayed, and queues nothing", async () => {
    const headers = { "idempotency-key": "fill-77" };
    const first = (await (await gateway.post(VALID_NOTIFICATION, headers)).json()) as {
      id: string;
    };
    await forgetKeyRecords();
    const again = await gateway.post(VALID_NOTIFICATION, headers);
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(((await again.json()) as { id: string }).id).toBe(first.id);
    expect(await gateway.jobCount()).toBe(1);
  });

  it("answers another body with 422 instead of a 202 that queues nothing", async () => {
    const headers = { "idempotency-key": "fill-78" };
    await gateway.post(VALID_NOTIFICATION, headers);
    await forgetKeyRecords();
    const other = await gateway.post({ ...VALID_NOTIFICATION, amount: 5 }, headers);
    expect(other.status).toBe(422);
    expect(await gateway.jobCount()).toBe(1);
  });
});

import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workerRedis } from "../../test/fixtures.js";
import { createDigestCollections, type FillRecord } from "./collection.js";

const WINDOW = 30_000;
const MAX_WAIT = 300_000;

describe("digest collections in Redis", () => {
  let redis: Redis;
  const keyPrefix = `test-${randomUUID()}:notifications`;
  const collections = (maxFills = 3) =>
    createDigestCollections({ redis, keyPrefix, maxFills, finalDelayMs: 200, ttlMs: 60_000 });

  beforeAll(() => {
    redis = workerRedis();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  function fill(order: string, id: string, overrides: Partial<FillRecord> = {}): FillRecord {
    return {
      channel: "sms",
      tenant: "key:a",
      order,
      recipient: "+12025550143",
      fillId: id,
      final: false,
      figures: { quantity: "1", amount: "10", price: "10" },
      payload: { asset: "BTC", order },
      timing: { windowMs: WINDOW, maxWaitMs: MAX_WAIT },
      ...overrides,
    };
  }

  it("moves the due time by the window, never past the maximum wait after the first fill", async () => {
    const store = collections(100);
    const order = randomUUID();
    expect((await store.record(fill(order, "a"), 1_000)).due).toBe(1_000 + WINDOW);
    expect((await store.record(fill(order, "b"), 200_000)).due).toBe(200_000 + WINDOW);
    // 290 s + 30 s would pass the 5 min after the first fill (at 1 s): 301 s it is.
    expect(
      (
        await store.record(
          fill(order, "c", { timing: { windowMs: WINDOW, maxWaitMs: MAX_WAIT } }),
          290_000,
        )
      ).due,
    ).toBe(301_000);
  });

  it("counts a repeated fill once, and says where it went", async () => {
    const store = collections();
    const order = randomUUID();
    const first = await store.record(fill(order, "a"), 1_000);
    const again = await store.record(
      fill(order, "a", { figures: { quantity: "9", amount: "9" } }),
      2_000,
    );
    expect(first).toMatchObject({ seq: 1, added: true });
    expect(again).toMatchObject({ seq: 1, added: false, due: first.due });
    const closed = await store.close(first.group, 1, "digest-1");
    expect(closed).toMatchObject({
      state: "closed",
      fills: [{ quantity: "1", amount: "10", price: "10" }],
    });
    // After the digest closed, the repeat points at it and opens nothing.
    expect(await store.record(fill(order, "a"), 3_000)).toMatchObject({
      seq: 1,
      added: false,
      closedBy: "digest-1",
    });
  });

  it("makes the digest due at once at the fill cap, and 200 ms after the final fill", async () => {
    const store = collections();
    const capped = randomUUID();
    await store.record(fill(capped, "a"), 1_000);
    await store.record(fill(capped, "b"), 1_000);
    expect((await store.record(fill(capped, "c"), 1_000)).due).toBe(1_000);
    const finished = randomUUID();
    await store.record(fill(finished, "a"), 1_000);
    expect((await store.record(fill(finished, "b", { final: true }), 2_000)).due).toBe(2_200);
  });

  it("keeps the collection open until its due time, and says when a fill made it sooner", async () => {
    const store = collections(100);
    const order = randomUUID();
    const first = await store.record(fill(order, "a"), 1_000);
    expect(first.sooner).toBe(false);
    expect(await store.close(first.group, 1, "digest-1", 2_000)).toEqual({
      state: "early",
      due: 1_000 + WINDOW,
    });
    // A later fill moves the window on; the final fill brings it forward.
    expect(await store.record(fill(order, "b"), 3_000)).toMatchObject({ sooner: false });
    const final = await store.record(fill(order, "c", { final: true }), 4_000);
    expect(final).toMatchObject({ due: 4_200, sooner: true });
    expect(await store.dueOf(first.group, 1)).toBe(4_200);
    expect(await store.close(first.group, 1, "digest-1", 4_200)).toMatchObject({
      state: "closed",
    });
  });

  it("starts the next digest at the fill cap: a full collection takes no more fills", async () => {
    const store = collections(3);
    const order = randomUUID();
    const seqs = [];
    for (const id of ["a", "b", "c", "d", "e"])
      seqs.push((await store.record(fill(order, id))).seq);
    expect(seqs).toEqual([1, 1, 1, 2, 2]);
    const first = await store.record(fill(order, "a"));
    const closed = await store.close(first.group, 1, "digest-1");
    expect(closed.state === "closed" && closed.fills).toHaveLength(3);
  });

  it("starts the next digest for a fill after the close; another job finds it closed", async () => {
    const store = collections();
    const order = randomUUID();
    const first = await store.record(fill(order, "a"), 1_000);
    expect(await store.close(first.group, 1, "digest-1")).toMatchObject({ state: "closed" });
    // The same job again (after a crash): the same answer.
    expect(await store.close(first.group, 1, "digest-1")).toMatchObject({ state: "closed" });
    expect(await store.close(first.group, 1, "stray")).toEqual({
      state: "stray",
      closedBy: "digest-1",
    });
    const late = await store.record(fill(order, "b"), 5_000);
    expect(late).toMatchObject({ seq: 2, added: true, due: 5_000 + WINDOW });
    expect(await store.close(first.group, 7, "digest-7")).toEqual({ state: "missing" });
  });

  it("keeps the totals and drops the fills once trimmed", async () => {
    const store = collections();
    const order = randomUUID();
    const first = await store.record(fill(order, "a"), 1_000);
    await store.close(first.group, 1, "digest-1");
    const totals = { count: 1, quantity: "1", amount: "10", averagePrice: "10" };
    await store.trim(first.group, 1, totals);
    expect(await redis.exists(`${first.group}:1:fills`)).toBe(0);
    expect(await store.close(first.group, 1, "digest-1")).toMatchObject({
      state: "closed",
      totals,
      fills: [],
    });
    // No phone number or order id in key names.
    expect(first.group).not.toContain("2025550143");
    expect(first.group).not.toContain(order);
  });
});

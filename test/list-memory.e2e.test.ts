import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../scripts/redis-server.js";
import { createTestQueue, redisUrl } from "./fixtures.js";
import {
  gatewayOver,
  postNotification,
  ROTATED_API_KEY,
  TEST_API_KEY,
  type TestGateway,
  VALID_NOTIFICATION,
} from "./gateway-fixture.js";
import {
  PRODUCTION_NODE_OPTIONS,
  type ServiceProcess,
  startService,
  waitForGatewayReady,
} from "./support/processes.js";

/** Scheduled notifications of one key, and list requests it sends at once. */
const SCHEDULED = 2000;
const CONCURRENT_LISTS = 30;

/** A notification with every field the API takes at (or near) its longest. */
function largest(index: number) {
  const long = (prefix: string, length: number) =>
    `${prefix}-${index}-`.padEnd(length, "x").slice(0, length);
  return {
    type: "trade.executed",
    to: `${long("customer", 64)}@${"d".repeat(60)}.${"e".repeat(60)}.example.com`,
    phone: "+123456789012345",
    asset: "A".repeat(20),
    amount: "123456789012345678.123456789012345678",
    quantity: "987654321098765432.987654321098765432",
    price: "123456789012345678.123456789012345678",
    fee: "123456789012345678.123456789012345678",
    feeAsset: "F".repeat(20),
    executedAt: "2026-11-26T19:02:00.865+01:00",
    locale: "de-DE-u-ca-gregory-nu-latn-hc-h23",
    timeZone: "America/Argentina/ComodRivadavia",
    order: long("order", 128),
    fill: { id: long("fill", 128), final: false },
    side: "buy",
    currency: "USDT",
    priority: "low",
    sendAt: new Date(Date.now() + 29 * 24 * 60 * 60 * 1000).toISOString(),
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

describe("a key listing its 2,000 scheduled notifications, 30 requests at once", () => {
  let seeder: TestGateway;
  let gateway: ServiceProcess;
  let base: string;
  beforeAll(async () => {
    seeder = gatewayOver(await createTestQueue(), {
      limits: { perKeyPerMinute: 0, authFailuresPerMinute: 20 },
    });
    // Seeded in-process under the gateway process's prefix: the same Redis keys a key's own
    // POSTs leave behind, without waiting out the per-key limit.
    for (let start = 0; start < SCHEDULED; start += 100) {
      const notifications = Array.from({ length: 100 }, (_, i) => largest(start + i));
      const response = await seeder.app.request("/notifications/batch", {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ notifications }),
      });
      expect(((await response.json()) as { accepted: number }).accepted).toBe(100);
    }
    expect(await seeder.queue.getDelayedCount()).toBe(SCHEDULED);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    gateway = startService("gateway", {
      REDIS_URL: redisUrl(),
      PORT: String(port),
      QUEUE_PREFIX: seeder.prefix,
      API_KEYS: `${TEST_API_KEY},${ROTATED_API_KEY}`,
      NODE_OPTIONS: PRODUCTION_NODE_OPTIONS,
    });
    await waitForGatewayReady(gateway, port);
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await seeder?.cleanup();
  });

  it("stays alive under its production heap, and another key's POST answers within 100 ms at p99", async () => {
    expect(PRODUCTION_NODE_OPTIONS).toContain("--max-old-space-size=96");
    const listing = { authorization: `Bearer ${TEST_API_KEY}` };
    const statuses: number[] = [];
    // A deployment has served both routes before: their first calls load code, send Lua scripts
    // whole and run before V8 has optimised them, which is not what this measures.
    for (let i = 0; i < 5; i++) {
      await fetch(`${base}/notifications?state=delayed&pageSize=100`, { headers: listing });
      await postNotification(base, VALID_NOTIFICATION, {
        authorization: `Bearer ${ROTATED_API_KEY}`,
      });
    }
    const itemCounts: number[] = [];
    let listsDone = false;
    const lists = (async () => {
      try {
        for (let wave = 0; wave < 3; wave++) {
          await Promise.all(
            Array.from({ length: CONCURRENT_LISTS }, async () => {
              const response = await fetch(`${base}/notifications?state=delayed&pageSize=100`, {
                headers: listing,
              }).catch(() => undefined);
              statuses.push(response?.status ?? 0);
              const body = (await response?.json().catch(() => undefined)) as
                | { items: unknown[] }
                | undefined;
              itemCounts.push(body?.items?.length ?? 0);
            }),
          );
        }
      } finally {
        listsDone = true;
      }
    })();
    const postMs: number[] = [];
    const postStatuses: number[] = [];
    while (!listsDone || postMs.length < 50) {
      const started = performance.now();
      const response = await fetch(`${base}/notifications`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${ROTATED_API_KEY}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(VALID_NOTIFICATION),
      }).catch(() => undefined);
      postMs.push(performance.now() - started);
      postStatuses.push(response?.status ?? 0);
      if (!response) break;
    }
    await lists;

    expect(gateway.child.exitCode).toBeNull();
    expect(gateway.lines.filter((line) => /heap out of memory/i.test(line))).toEqual([]);
    expect(statuses).toEqual(Array(3 * CONCURRENT_LISTS).fill(200));
    expect(itemCounts).toEqual(Array(3 * CONCURRENT_LISTS).fill(100));
    expect(new Set(postStatuses)).toEqual(new Set([202]));
    expect(percentile(postMs, 99)).toBeLessThan(100);
  }, 120_000);
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestQueue } from "../../test/fixtures.js";
import {
  ADMIN_API_KEY,
  gatewayOver,
  ROTATED_API_KEY,
  TEST_API_KEY,
  type TestGateway,
} from "../../test/gateway-fixture.js";

const ORDERS = ["ord-8f3a2c1e", "ord-77b0", "ord-c0ffee"];
const EMAILS = ["ana@example.com", "bo@example.org"];
const PHONES = ["+12025550143", "+447700900123"];
const KEYS = [TEST_API_KEY, ROTATED_API_KEY];
const GROUPS = 4;
const PER_GROUP = 50;

interface Sent {
  id: string;
  key: string;
  order: string;
  email: string;
  phone: string;
  scheduled: boolean;
  group: number;
  createdAt: number;
}

let gateway: TestGateway;
const sent: Sent[] = [];
/** Instants between the time groups: bounds[g] is before group g, bounds[g + 1] after it. */
const bounds: number[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  gateway = gatewayOver(await createTestQueue(), {
    limits: { perKeyPerMinute: 0, authFailuresPerMinute: 20 },
  });
  for (let group = 0; group < GROUPS; group++) {
    bounds.push(Date.now());
    await sleep(15);
    for (const key of KEYS) {
      const items = Array.from({ length: PER_GROUP / KEYS.length }, (_, i) => {
        const n = group * PER_GROUP + i * KEYS.length + KEYS.indexOf(key);
        return {
          key,
          order: ORDERS[n % 3] ?? "",
          email: EMAILS[n % 2] ?? "",
          phone: PHONES[Math.floor(n / 2) % 2] ?? "",
          scheduled: n % 5 === 0,
        };
      });
      // Half one at a time, half in a batch (whose items share one creation instant).
      for (const item of items.slice(0, 5)) {
        const response = await gateway.post(body(item), { authorization: `Bearer ${key}` });
        expect(response.status).toBe(202);
        const { id } = (await response.json()) as { id: string };
        sent.push({ ...item, id, group, createdAt: 0 });
      }
      const response = await gateway.app.request("/notifications/batch", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ notifications: items.slice(5).map(body) }),
      });
      const { results } = (await response.json()) as { results: Array<{ id: string }> };
      expect(results).toHaveLength(items.length - 5);
      results.forEach(({ id }, i) => {
        const item = items[5 + i];
        if (item) sent.push({ ...item, id, group, createdAt: 0 });
      });
    }
    await sleep(15);
  }
  bounds.push(Date.now());
  expect(sent).toHaveLength(GROUPS * PER_GROUP);
}, 60_000);
afterAll(async () => {
  await gateway?.cleanup();
});

function body(item: Omit<Sent, "id" | "group" | "createdAt">) {
  return {
    to: item.email,
    phone: item.phone,
    asset: "BTC",
    amount: 1000,
    quantity: 0.02,
    order: item.order,
    ...(item.scheduled ? { sendAt: new Date(Date.now() + 3_600_000).toISOString() } : {}),
  };
}

/** Every page of a search, followed to its end. */
async function everyPage(key: string, query: Record<string, string>) {
  const ids: string[] = [];
  const createdAts: number[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 200; pages++) {
    const params = new URLSearchParams({ ...query, pageSize: "9", ...(cursor ? { cursor } : {}) });
    const response = await gateway.app.request(`/notifications?${params}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    const page = (await response.json()) as {
      items: Array<{ id: string; createdAt: string }>;
      nextCursor: string | null;
    };
    expect(page.items.length).toBeLessThanOrEqual(9);
    ids.push(...page.items.map((item) => item.id));
    createdAts.push(...page.items.map((item) => Date.parse(item.createdAt)));
    cursor = page.nextCursor;
    if (!cursor) return { ids, createdAts };
  }
  throw new Error("the search did not end");
}

describe("GET /notifications searches", () => {
  it("returns exactly the matching notifications of each filter combination, paged, newest first", async () => {
    const iso = (ms: number) => new Date(ms).toISOString().replace("Z", "+00:00");
    const ranges: Array<{ name: string; query: Record<string, string>; groups: number[] }> = [
      { name: "any time", query: {}, groups: [0, 1, 2, 3] },
      {
        name: "groups 1-2",
        query: { since: iso(bounds[1] ?? 0), until: iso(bounds[3] ?? 0) },
        groups: [1, 2],
      },
      { name: "since group 3", query: { since: iso(bounds[3] ?? 0) }, groups: [3] },
      { name: "until group 0", query: { until: iso(bounds[1] ?? 0) }, groups: [0] },
    ];
    let combinations = 0;
    for (const viewer of [TEST_API_KEY, ROTATED_API_KEY, ADMIN_API_KEY]) {
      for (const order of [undefined, ...ORDERS]) {
        for (const recipient of [undefined, EMAILS[0]?.toUpperCase(), PHONES[1]]) {
          for (const range of ranges) {
            for (const state of [undefined, "delayed", "queued"]) {
              const expected = sent.filter(
                (item) =>
                  (viewer === ADMIN_API_KEY || item.key === viewer) &&
                  (!order || item.order === order) &&
                  (!recipient ||
                    item.email === recipient.toLowerCase() ||
                    item.phone === recipient) &&
                  range.groups.includes(item.group) &&
                  (!state || (state === "delayed") === item.scheduled),
              );
              const query = {
                ...range.query,
                ...(order ? { order } : {}),
                ...(recipient ? { recipient } : {}),
                ...(state ? { state } : {}),
              };
              const { ids, createdAts } = await everyPage(viewer, query);
              const context = `${viewer.slice(0, 5)} ${JSON.stringify(query)}`;
              expect(new Set(ids).size, context).toBe(ids.length);
              expect([...ids].sort(), context).toEqual(expected.map((item) => item.id).sort());
              expect(createdAts, context).toEqual([...createdAts].sort((a, b) => b - a));
              combinations++;
            }
          }
        }
      }
    }
    expect(combinations).toBe(3 * 4 * 3 * 4 * 3);
  }, 120_000);

  it("never shows another key's notifications, whatever the filter", async () => {
    const theirs = sent.filter((item) => item.key === ROTATED_API_KEY).map((item) => item.id);
    const { ids } = await everyPage(TEST_API_KEY, { order: ORDERS[0] ?? "" });
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.filter((id) => theirs.includes(id))).toEqual([]);
  });

  it("answers 400 to a recipient that is neither an email nor an E.164 number", async () => {
    const response = await gateway.get("/notifications?recipient=12025550143");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
  });

  it("answers 400 to a time without an offset", async () => {
    const response = await gateway.get("/notifications?since=2026-11-26T08:00:00");
    expect(response.status).toBe(400);
  });
});

import { Queue, Worker } from "bullmq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DELIVERY_EVENTS_QUEUE } from "../../contract/delivery-events-queue.js";
import { NOTIFICATION_QUEUE, TRADE_EXECUTED_JOB } from "../../contract/notification-job.js";
import { createTestQueue, workerRedis } from "../../test/fixtures.js";
import { gatewayOver, VALID_NOTIFICATION } from "../../test/gateway-fixture.js";
import { waitForFinished } from "../../test/worker-fixture.js";
import type { GatewayDeps } from "../app-types.js";
import { LoginAttempts } from "./admin-dashboard.js";

const ADMIN = { user: "ops", password: "correct horse battery staple" };
const API = "/admin/queues/api/queues";
/** The header the tests' "proxy" names the client in (the CLIENT_IP_HEADER knob). */
const CLIENT_IP_HEADER = "x-test-client-ip";

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}
const LOGGED_IN = { authorization: basic(ADMIN.user, ADMIN.password) };
/** What a browser adds to a request the dashboard's own page makes (in-process, the origin is http://localhost). */
const SAME_ORIGIN = { "sec-fetch-site": "same-origin", origin: "http://localhost" };

let fixture: Awaited<ReturnType<typeof createTestQueue>>;
beforeEach(async () => {
  fixture = await createTestQueue();
});
afterEach(async () => {
  await fixture.cleanup();
});

function dashboard(admin: GatewayDeps["admin"] = ADMIN) {
  return gatewayOver(fixture, {
    admin,
    limits: { perKeyPerMinute: 0, authFailuresPerMinute: 20, clientIpHeader: CLIENT_IP_HEADER },
  });
}

/** A notification whose one attempt failed, as Bull Board lists it under "failed". */
async function failedJob(): Promise<string> {
  const connection = workerRedis();
  const worker = new Worker(
    NOTIFICATION_QUEUE,
    async () => {
      throw new Error("provider down");
    },
    { connection, prefix: fixture.prefix },
  );
  try {
    const id = crypto.randomUUID();
    await fixture.queue.add(TRADE_EXECUTED_JOB, VALID_NOTIFICATION, { jobId: id, attempts: 1 });
    await waitForFinished(fixture.queue, id);
    return id;
  } finally {
    await worker.close();
    await connection.quit();
  }
}

describe("dashboard login attempts", () => {
  const login = (
    app: ReturnType<typeof dashboard>["app"],
    client: string,
    authorization?: string,
  ) =>
    app.request("/admin/queues", {
      headers: { [CLIENT_IP_HEADER]: client, ...(authorization ? { authorization } : {}) },
    });

  it("answers 429 with Retry-After after 10 failed logins from one address, whatever comes next", async () => {
    const { app } = dashboard();
    for (let attempt = 1; attempt <= 10; attempt++) {
      const response = await login(app, "203.0.113.7", basic(ADMIN.user, `guess-${attempt}`));
      expect(response.status, `attempt ${attempt}`).toBe(401);
    }
    // The 11th attempt is refused before the password is looked at: even the right one, so a
    // 429 tells an attacker nothing about their guess.
    for (const authorization of [basic(ADMIN.user, "guess-11"), LOGGED_IN.authorization]) {
      const refused = await login(app, "203.0.113.7", authorization);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
      expect(await refused.json()).toMatchObject({ error: { code: "TOO_MANY_REQUESTS" } });
    }
  });

  it("never blocks a login from another address", async () => {
    const { app } = dashboard();
    for (let attempt = 1; attempt <= 12; attempt++) {
      await login(app, "203.0.113.7", basic(ADMIN.user, `guess-${attempt}`));
    }
    expect((await login(app, "203.0.113.7", LOGGED_IN.authorization)).status).toBe(429);
    expect((await login(app, "198.51.100.2", LOGGED_IN.authorization)).status).toBe(200);
  });

  it("does not count a request that offers no credentials (a browser's first, challenged request)", async () => {
    const { app } = dashboard();
    for (let attempt = 1; attempt <= 20; attempt++) {
      expect((await login(app, "203.0.113.9")).status).toBe(401);
    }
    expect((await login(app, "203.0.113.9", LOGGED_IN.authorization)).status).toBe(200);
  });
});

describe("LoginAttempts", () => {
  it("remembers a bounded number of addresses, forgetting the least recently failing first", async () => {
    const attempts = new LoginAttempts({ failures: 2, windowSeconds: 900, clients: 3 });
    await attempts.fail("a");
    await attempts.fail("a");
    expect(await attempts.secondsBlocked("a")).toBeGreaterThan(0);
    for (const client of ["b", "c", "d", "e"]) await attempts.fail(client);
    expect(attempts.trackedClients).toBe(3);
    // "a" was pushed out by three newer addresses, and its count with it.
    expect(await attempts.secondsBlocked("a")).toBe(0);
    expect(await attempts.secondsBlocked("b")).toBe(0);
  });

  it("keeps a blocked address that goes on trying", async () => {
    const attempts = new LoginAttempts({ failures: 1, windowSeconds: 900, clients: 2 });
    await attempts.fail("attacker");
    await attempts.fail("x");
    expect(await attempts.secondsBlocked("attacker")).toBeGreaterThan(0); // refreshes it
    await attempts.fail("y"); // evicts "x", the least recent
    expect(await attempts.secondsBlocked("attacker")).toBeGreaterThan(0);
    expect(attempts.trackedClients).toBe(2);
  });
});

describe("dashboard requests another site could forge", () => {
  it("refuses a cross-site pause, and a same-origin one still pauses", async () => {
    const { app } = dashboard();
    const crossSite = await app.request(`${API}/notifications/pause`, {
      method: "PUT",
      headers: { ...LOGGED_IN, "sec-fetch-site": "cross-site", origin: "https://evil.example" },
    });
    expect(crossSite.status).toBe(403);
    expect(await crossSite.json()).toMatchObject({ error: { code: "FORBIDDEN" } });
    expect(await fixture.queue.isPaused()).toBe(false);

    const own = await app.request(`${API}/notifications/pause`, {
      method: "PUT",
      headers: { ...LOGGED_IN, ...SAME_ORIGIN },
    });
    expect(own.status).toBe(200);
    expect(await fixture.queue.isPaused()).toBe(true);
  });

  it("refuses a same-origin request whose body is not JSON", async () => {
    const { app } = dashboard();
    const response = await app.request(`${API}/notifications/concurrency`, {
      method: "PUT",
      headers: { ...LOGGED_IN, ...SAME_ORIGIN, "content-type": "text/plain" },
      body: JSON.stringify({ concurrency: 1 }),
    });
    expect(response.status).toBe(403);
    expect(await fixture.queue.getGlobalConcurrency()).toBeNull();
  });

  it("never adds a job, even for the dashboard's own page with JSON", async () => {
    const { app, jobCount } = dashboard();
    const response = await app.request(`${API}/notifications/add`, {
      method: "POST",
      headers: { ...LOGGED_IN, ...SAME_ORIGIN, "content-type": "application/json" },
      body: JSON.stringify({ name: TRADE_EXECUTED_JOB, data: VALID_NOTIFICATION }),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: "FORBIDDEN" } });
    expect(await jobCount()).toBe(0);
  });

  it("never rewrites a job's data, so a retry cannot be pointed at another address", async () => {
    const { app } = dashboard();
    const id = await failedJob();
    const response = await app.request(`${API}/notifications/${id}/update-data`, {
      method: "PATCH",
      headers: { ...LOGGED_IN, ...SAME_ORIGIN, "content-type": "application/json" },
      body: JSON.stringify({ jobData: { ...VALID_NOTIFICATION, to: "victim@attacker.example" } }),
    });
    expect(response.status).toBe(403);
    expect((await fixture.queue.getJob(id))?.data).toEqual(VALID_NOTIFICATION);
  });
});

describe("read-only dashboard (ADMIN_READ_ONLY)", () => {
  it("refuses a retry with 403 and leaves the job failed, but still lists jobs", async () => {
    const { app } = dashboard({ ...ADMIN, readOnly: true });
    const id = await failedJob();
    for (const method of ["PUT", "POST"]) {
      const retry = await app.request(`${API}/notifications/${id}/retry`, {
        method,
        headers: { ...LOGGED_IN, ...SAME_ORIGIN },
      });
      expect(retry.status, method).toBe(403);
      expect(await retry.json()).toMatchObject({ error: { code: "FORBIDDEN" } });
    }
    expect(await fixture.queue.getJobState(id)).toBe("failed");

    const list = await app.request(`${API}?activeQueue=notifications&status=failed`, {
      headers: LOGGED_IN,
    });
    expect(list.status).toBe(200);
    const { queues } = (await list.json()) as {
      queues: { name: string; readOnlyMode: boolean; jobs: { id: string }[] }[];
    };
    const queue = queues.find((candidate) => candidate.name === NOTIFICATION_QUEUE);
    // Bull Board itself runs read-only too: its page offers no actions.
    expect(queue?.readOnlyMode).toBe(true);
    expect(queue?.jobs.map((job) => job.id)).toEqual([id]);
  });

  it("leaves a writable dashboard able to retry", async () => {
    const { app } = dashboard();
    const id = await failedJob();
    const retry = await app.request(`${API}/notifications/${id}/retry`, {
      method: "PUT",
      headers: { ...LOGGED_IN, ...SAME_ORIGIN },
    });
    expect(retry.status).toBe(204);
    expect(await fixture.queue.getJobState(id)).not.toBe("failed");
  });
});

describe("the events queue (EVENTS_WEBHOOK_URL)", () => {
  async function listed(app: ReturnType<typeof dashboard>["app"]) {
    const list = await app.request(`${API}?activeQueue=${DELIVERY_EVENTS_QUEUE}&status=failed`, {
      headers: LOGGED_IN,
    });
    expect(list.status).toBe(200);
    return ((await list.json()) as { queues: { name: string; readOnlyMode: boolean }[] }).queues;
  }

  it("is listed beside the notifications, read-only when the dashboard is", async () => {
    const events = new Queue(DELIVERY_EVENTS_QUEUE, {
      connection: fixture.redis,
      prefix: fixture.prefix,
    });
    try {
      for (const readOnly of [false, true]) {
        const { app } = gatewayOver(fixture, {
          admin: { ...ADMIN, readOnly },
          eventsQueue: events,
        });
        const queues = await listed(app);
        expect(queues.map((queue) => [queue.name, queue.readOnlyMode]).sort()).toEqual([
          [DELIVERY_EVENTS_QUEUE, readOnly],
          [NOTIFICATION_QUEUE, readOnly],
        ]);
      }
    } finally {
      await events.obliterate({ force: true });
      await events.close();
    }
  });

  it("is not listed when events are off", async () => {
    const queues = await listed(dashboard().app);
    expect(queues.map((queue) => queue.name)).toEqual([NOTIFICATION_QUEUE]);
  });
});

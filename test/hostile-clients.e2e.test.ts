import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../scripts/redis-server.js";
import { redisUrl } from "./fixtures.js";
import { TEST_API_KEY } from "./gateway-fixture.js";
import { type ServiceProcess, startService, waitForGatewayReady } from "./support/processes.js";

/** Sends `head`, then the body a byte at a time, and reports when and how the server answered. */
function trickle(port: number, head: string, bodyBytes: number, everyMs: number) {
  return new Promise<{ response: string; answeredAfterMs: number; bytesSent: number }>(
    (resolve) => {
      const socket = connect(port, "127.0.0.1");
      const started = performance.now();
      let response = "";
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      socket.on("connect", () => {
        socket.write(head);
        timer = setInterval(() => {
          if (sent >= bodyBytes || socket.destroyed) return;
          socket.write("x");
          sent += 1;
        }, everyMs);
      });
      let answeredAfterMs = Number.POSITIVE_INFINITY;
      socket.on("data", (chunk) => {
        answeredAfterMs = Math.min(answeredAfterMs, performance.now() - started);
        response += chunk.toString();
        // A complete answer: stop sending and hang up.
        if (/\r\n\r\n[\s\S]*\}$/.test(response) || response.includes("Connection: close"))
          socket.end();
      });
      socket.on("error", () => {});
      socket.on("close", () => {
        clearInterval(timer);
        resolve({ response, answeredAfterMs, bytesSent: sent });
      });
    },
  );
}

describe("hostile clients against the gateway process", () => {
  let gateway: ServiceProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    gateway = startService("gateway", {
      REDIS_URL: redisUrl(),
      PORT: String(port),
      API_KEYS: TEST_API_KEY,
      REQUEST_TIMEOUT_MS: "1500",
    });
    await waitForGatewayReady(gateway, port);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("cuts off a client that trickles its body, with 408, after REQUEST_TIMEOUT_MS", async () => {
    const head = [
      "POST /notifications HTTP/1.1",
      "Host: 127.0.0.1",
      `Authorization: Bearer ${TEST_API_KEY}`,
      "Content-Type: application/json",
      "Content-Length: 10000",
      "",
      "",
    ].join("\r\n");
    const result = await trickle(port, head, 10_000, 50);
    expect(result.response).toMatch(/^HTTP\/1\.1 408/);
    expect(result.answeredAfterMs).toBeGreaterThanOrEqual(1400);
    expect(result.answeredAfterMs).toBeLessThan(10_000);
    expect(result.bytesSent).toBeLessThan(10_000);
  });

  it("answers 413 to an oversized declared body without waiting for it", async () => {
    const head = [
      "POST /notifications HTTP/1.1",
      "Host: 127.0.0.1",
      `Authorization: Bearer ${TEST_API_KEY}`,
      "Content-Type: application/json",
      `Content-Length: ${10 * 1024 * 1024}`,
      "",
      "",
    ].join("\r\n");
    // Send no body at all: the answer must come from the header alone.
    const result = await trickle(port, head, 0, 1000);
    expect(result.response).toMatch(/^HTTP\/1\.1 413/);
    expect(result.response).toContain('"code":"PAYLOAD_TOO_LARGE"');
    expect(result.answeredAfterMs).toBeLessThan(1400);
  });
});

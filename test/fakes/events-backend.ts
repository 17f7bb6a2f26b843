import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Webhook } from "standardwebhooks";
import type { DeliveryEvent } from "../../contract/delivery-events.js";
import { freePort } from "../../scripts/redis-server.js";

/*
 * The exchange's backend as our events reach it: a plain node:http server that verifies every
 * request with the `standardwebhooks` package (as the backend's engineers are told to in
 * docs/events.md) and records what it got. It can answer like a backend in trouble:
 *   - `status`: answer every request with this status (503 while deploying, 500 on a bug);
 *   - `hang`: read the request and never answer (a stuck backend: our timeout must end it);
 *   - `goDown()` / `comeBack()`: close the port, so connections are refused, then listen again.
 */

/** One request the backend received. */
export interface ReceivedEvent {
  webhookId: string;
  timestamp: string;
  signature: string;
  /** Whether `Webhook.verify` accepted the request (signature and timestamp). */
  verified: boolean;
  event: DeliveryEvent;
  /** What the backend answered. */
  answered: number | "nothing";
  at: number;
}

export interface FakeEventsBackend {
  url: string;
  /** `whsec_…`: the secret our service signs with. */
  secret: string;
  /** Every request, in order of arrival. */
  received: ReceivedEvent[];
  /** The requests answered 2xx: what the backend has accepted. */
  accepted(): ReceivedEvent[];
  behaviour: { status: number; hang: boolean };
  goDown(): Promise<void>;
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

/** A fresh Standard Webhooks secret: 32 random bytes, base64, after `whsec_`. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export async function startFakeEventsBackend(): Promise<FakeEventsBackend> {
  const secret = newWebhookSecret();
  const webhook = new Webhook(secret);
  const port = await freePort();
  const received: ReceivedEvent[] = [];
  const behaviour = { status: 204, hang: false };
  const hanging = new Set<ServerResponse>();

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const header = (name: string) => String(request.headers[name] ?? "");
    let verified = true;
    try {
      webhook.verify(body, {
        "webhook-id": header("webhook-id"),
        "webhook-timestamp": header("webhook-timestamp"),
        "webhook-signature": header("webhook-signature"),
      });
    } catch {
      verified = false;
    }
    const entry: ReceivedEvent = {
      webhookId: header("webhook-id"),
      timestamp: header("webhook-timestamp"),
      signature: header("webhook-signature"),
      verified,
      event: JSON.parse(body) as DeliveryEvent,
      answered: "nothing",
      at: Date.now(),
    };
    received.push(entry);
    if (behaviour.hang) {
      hanging.add(response);
      return;
    }
    // A real backend refuses what it cannot verify.
    entry.answered = verified ? behaviour.status : 401;
    response.writeHead(entry.answered).end();
  };

  let server: Server | undefined;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((request, response) => {
        handle(request, response).catch(() => response.writeHead(500).end());
      });
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => resolve());
      server = next;
    });
  const shut = () =>
    new Promise<void>((resolve) => {
      for (const response of hanging) response.destroy();
      hanging.clear();
      if (!server) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
      server = undefined;
    });
  await open();

  return {
    url: `http://127.0.0.1:${port}/events`,
    secret,
    received,
    accepted: () =>
      received.filter(
        (entry) => typeof entry.answered === "number" && entry.answered < 300 && entry.verified,
      ),
    behaviour,
    goDown: shut,
    comeBack: open,
    close: shut,
  };
}

import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

/*
 * How the fake Resend calls a webhook endpoint, as Resend does. Every rule cites its page:
 *
 *   webhooks:     https://resend.com/docs/webhooks/introduction
 *   event types:  https://resend.com/docs/webhooks/event-types
 *   payloads:     https://resend.com/docs/webhooks/emails/bounced (and the sibling pages)
 *   verify:       https://resend.com/docs/dashboard/webhooks/verify-webhooks-requests
 *   retries:      https://resend.com/docs/webhooks/retries-and-replays
 *   test emails:  https://resend.com/docs/dashboard/emails/send-test-emails
 *
 * Resend delivers its webhooks through Svix: a JSON POST with the `svix-id`, `svix-timestamp`
 * and `svix-signature` headers (verify page). The signature is the Standard Webhooks one (Svix
 * wrote that specification): HMAC-SHA256 of `{id}.{timestamp}.{body}` with the base64 secret
 * after `whsec_`, as `v1,<base64>`. The fake signs with the `standardwebhooks` library, not with
 * HMAC code of its own, so a mistake here cannot agree with the same mistake in the gateway.
 */

/** Resend's email events (event-types page). */
export type ResendEmailEvent =
  | "email.sent"
  | "email.delivered"
  | "email.delivery_delayed"
  | "email.bounced"
  | "email.complained"
  | "email.failed"
  | "email.suppressed"
  | "email.opened"
  | "email.clicked";

/** Where Resend posts, and the endpoint's signing secret (`whsec_…`, on the webhook's page). */
export interface ResendWebhookTarget {
  url: string;
  secret: string;
}

/** One POST the fake made (or tried to make) to the webhook endpoint. */
export interface WebhookDelivery {
  /** `svix-id`: the message id, the same on every attempt of one event. */
  id: string;
  type: string;
  emailId: string;
  url: string;
  /** The raw JSON body, exactly as sent (what the signature covers). */
  body: string;
  headers: Record<string, string>;
  /** 1 for the first attempt. */
  attempt: number;
  /** The endpoint's answer; undefined while in flight or when no answer came. */
  status?: number;
  /** Why no answer came (a refused connection). */
  error?: string;
}

/**
 * Svix's retry schedule, which Resend's retries page lists: after the first attempt, 5 seconds,
 * 5 minutes, 30 minutes, 2 hours, 5 hours, 10 hours and 10 hours; any answer outside 2xx (or none)
 * is a failure.
 */
export const SVIX_RETRY_DELAYS_MS = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** The Svix headers for `body`, signed with `secret` at `timestampSeconds`. */
export function svixHeaders(
  secret: string,
  body: string,
  options: { id?: string; timestampSeconds?: number } = {},
): Record<string, string> {
  const id = options.id ?? `msg_${randomBytes(14).toString("base64url")}`;
  const seconds = options.timestampSeconds ?? Math.floor(Date.now() / 1000);
  return {
    "content-type": "application/json",
    "svix-id": id,
    "svix-timestamp": String(seconds),
    "svix-signature": new Webhook(secret).sign(id, new Date(seconds * 1000), body),
  };
}

/** The events Resend reports for an accepted email, by its first recipient (test-emails page). */
export function eventsFor(recipient: string): ResendEmailEvent[] {
  const [local = "", domain = ""] = recipient.toLowerCase().split("@");
  // Test addresses take a label after `+` (`bounced+order-1@resend.dev`): same outcome.
  const mailbox = local.split("+")[0];
  if (domain === "resend.dev" && mailbox === "bounced") return ["email.sent", "email.bounced"];
  // A complaint comes from a recipient who got the email: delivered first.
  if (domain === "resend.dev" && mailbox === "complained")
    return ["email.sent", "email.delivered", "email.complained"];
  // delivered@resend.dev, and any other address the fake accepted.
  return ["email.sent", "email.delivered"];
}

/** An accepted email, as the webhook payloads describe it. */
export interface WebhookEmail {
  id: string;
  from: string;
  recipients: string[];
  subject: string;
  createdAt: number;
}

/**
 * A Resend webhook body: `{type, created_at, data}`, `data` with `created_at`, `email_id`,
 * `from`, `to` (an array), `subject`, and per type `bounce` ({message, subType, type}),
 * `failed` ({reason}) or `suppressed` ({message, type}) (the payload pages, and the SDK's own
 * `WebhookEventPayload` types). `extra` adds or replaces fields of `data`.
 */
export function webhookPayload(
  type: string,
  email: WebhookEmail,
  at: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const data: Record<string, unknown> = {
    created_at: new Date(email.createdAt).toISOString(),
    email_id: email.id,
    from: email.from,
    to: email.recipients,
    subject: email.subject,
  };
  // Wording of the fake's own: Resend's pages show the fields, not the text for each test address.
  if (type === "email.bounced") {
    data.bounce = {
      message:
        "The recipient's mail server permanently rejected the email: the address does not exist.",
      subType: "General",
      type: "Permanent",
    };
  }
  if (type === "email.failed") data.failed = { reason: "reached_daily_quota" };
  if (type === "email.suppressed") {
    data.suppressed = {
      message: "This recipient is on the suppression list after an earlier hard bounce.",
      type: "OnAccountSuppressionList",
    };
  }
  return { type, created_at: new Date(at).toISOString(), data: { ...data, ...extra } };
}

/**
 * Posts events to the endpoint the way Svix does: signed, each event once as far as the sender
 * knows, again on a failure after each delay of `retryDelaysMs` (new timestamp and signature,
 * same `svix-id`). Every attempt is kept in `deliveries`, so a test can replay or tamper with one.
 */
export function createWebhookSender(options: {
  target: () => ResendWebhookTarget | undefined;
  retryDelaysMs: () => number[];
}) {
  const deliveries: WebhookDelivery[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  async function post(delivery: WebhookDelivery): Promise<WebhookDelivery> {
    deliveries.push(delivery);
    try {
      const response = await fetch(delivery.url, {
        method: "POST",
        headers: delivery.headers,
        body: delivery.body,
      });
      await response.body?.cancel();
      delivery.status = response.status;
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error);
    }
    return delivery;
  }

  function ok(delivery: WebhookDelivery): boolean {
    return delivery.status !== undefined && delivery.status >= 200 && delivery.status < 300;
  }

  /** One attempt; on failure the next one is scheduled. Resolves with this attempt's outcome. */
  async function attempt(
    message: { id: string; type: string; emailId: string; body: string },
    number: number,
  ): Promise<WebhookDelivery | undefined> {
    const target = options.target();
    if (!target || closed) return undefined;
    const delivery = await post({
      ...message,
      url: target.url,
      headers: svixHeaders(target.secret, message.body, { id: message.id }),
      attempt: number,
    });
    const wait = options.retryDelaysMs()[number - 1];
    if (!ok(delivery) && wait !== undefined && !closed) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void attempt(message, number + 1);
      }, wait);
      timers.add(timer);
    }
    return delivery;
  }

  return {
    deliveries,
    /** Sends one event (first attempt now); resolves with the first attempt. */
    send(type: string, emailId: string, payload: Record<string, unknown>) {
      const id = `msg_${randomBytes(14).toString("base64url")}`;
      return attempt({ id, type, emailId, body: JSON.stringify(payload) }, 1);
    },
    /**
     * Posts an earlier attempt again, byte for byte (an attacker who captured it, or a
     * misbehaving proxy): same `svix-id`, same timestamp, same signature.
     */
    replay(delivery: WebhookDelivery): Promise<WebhookDelivery> {
      return post({ ...delivery, attempt: delivery.attempt, status: undefined, error: undefined });
    },
    /** Posts any body with any headers to the endpoint (forged or hand-signed requests). */
    postRaw(body: string, headers: Record<string, string>): Promise<WebhookDelivery> {
      const target = options.target();
      if (!target) throw new Error("no webhook endpoint configured");
      return post({
        id: headers["svix-id"] ?? "",
        type: "raw",
        emailId: "",
        url: target.url,
        body,
        headers,
        attempt: 1,
      });
    },
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

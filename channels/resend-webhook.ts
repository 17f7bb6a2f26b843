import type { Resend } from "resend";
import { loadOnce } from "../lib/load-once.js";
import { redactContacts } from "../lib/mask.js";
import type { StatusReport, WebhookAdapter } from "./webhook-adapter.js";

/** Where Resend posts its events: registered in Resend's dashboard (docs/delivery-status.md). */
export const RESEND_WEBHOOK_PATH = "/webhooks/resend";
/** Resend's email events are a few KiB; an inbound email's event is not read here. */
const MAX_WEBHOOK_BYTES = 256 * 1024;
/**
 * How long a `svix-id` is remembered. A request is refused once its signed timestamp is more
 * than 5 minutes off (the Standard Webhooks tolerance, which the SDK's verify applies), so a
 * captured request can only be replayed inside that window; twice the window covers clock skew.
 */
export const SEEN_ID_TTL_SECONDS = 10 * 60;

/** Provider words kept in a timeline: contact details masked, a line at most. */
function reasonText(text: unknown): string | undefined {
  if (typeof text !== "string" || text === "") return undefined;
  return redactContacts(text).slice(0, 300);
}

/**
 * Reads a verified Resend event (https://resend.com/docs/webhooks/event-types). Events that say
 * nothing about delivery (opens, clicks, contacts, domains, inbound mail) answer undefined and
 * are acknowledged without effect.
 */
export function readResendEvent(event: unknown, receivedAt: number): StatusReport | undefined {
  const { type, created_at, data } = (event ?? {}) as {
    type?: unknown;
    created_at?: unknown;
    data?: Record<string, unknown>;
  };
  if (typeof type !== "string" || !data || typeof data.email_id !== "string") return undefined;
  const emailId = data.email_id;
  const parsedAt = typeof created_at === "string" ? Date.parse(created_at) : Number.NaN;
  const at = Number.isNaN(parsedAt) ? receivedAt : parsedAt;
  const recipients = Array.isArray(data.to)
    ? data.to.filter((to): to is string => typeof to === "string")
    : [];
  const report = { type: "status", providerId: emailId } as const;
  const base = {
    channel: "email" as const,
    at,
    source: "resend" as const,
    event: type,
    key: `resend:${emailId}:${type}`,
    providerId: emailId,
  };
  switch (type) {
    case "email.sent":
      return { ...report, transition: { ...base, status: "sent" } };
    case "email.delivered":
      return { ...report, transition: { ...base, status: "delivered" } };
    case "email.delivery_delayed":
      // Resend keeps trying: a timeline entry, no status.
      return { ...report, transition: base };
    case "email.bounced": {
      const bounce = (data.bounce ?? {}) as {
        type?: unknown;
        subType?: unknown;
        message?: unknown;
      };
      const bounceType = typeof bounce.type === "string" ? bounce.type : "Undetermined";
      const subType = typeof bounce.subType === "string" ? bounce.subType : undefined;
      const code = subType ? `${bounceType}:${subType}` : bounceType;
      return {
        ...report,
        bounceType,
        transition: { ...base, status: "bounced", code, reason: reasonText(bounce.message) },
        // Only a hard bounce says the address will never work.
        ...(bounceType === "Permanent"
          ? { suppress: { recipients, reason: "bounce" as const, code } }
          : {}),
      };
    }
    case "email.complained":
      return {
        ...report,
        complaint: true,
        transition: { ...base, status: "complained" },
        suppress: { recipients, reason: "complaint" },
      };
    case "email.failed": {
      const failed = (data.failed ?? {}) as { reason?: unknown };
      const code = typeof failed.reason === "string" ? failed.reason : undefined;
      return { ...report, transition: { ...base, status: "failed", code } };
    }
    case "email.suppressed": {
      // Resend did not send it: the address is on Resend's own suppression list.
      const suppressed = (data.suppressed ?? {}) as { type?: unknown; message?: unknown };
      const code = typeof suppressed.type === "string" ? suppressed.type : "suppressed";
      return {
        ...report,
        transition: {
          ...base,
          status: "failed",
          code: `suppressed:${code}`,
          reason: reasonText(suppressed.message),
        },
        suppress: { recipients, reason: "provider_suppressed", code },
      };
    }
    default:
      return undefined;
  }
}

/**
 * Resend's webhook, built only with its signing secret (RESEND_WEBHOOK_SECRET, `whsec_…`).
 * Verified from the raw body with the resend SDK's `webhooks.verify` (Svix / Standard Webhooks:
 * `svix-id`, `svix-timestamp`, `svix-signature`, 5 minutes of tolerance); a bad, missing or stale
 * signature is refused. The `svix-id` identifies the request, so a replay is acknowledged and
 * ignored.
 */
export function createResendWebhook(secret: string): WebhookAdapter {
  /**
   * The resend SDK's webhook verifier, the SDK (and the MIME parser it brings) loaded by the first
   * Resend webhook instead of at every gateway start: only this webhook uses it. The client is
   * only used for `webhooks.verify`, which sends nothing: the key is a placeholder. A load that
   * failed is thrown (a 500, which Resend retries); the next webhook tries to load it again.
   */
  const resendWebhooks = loadOnce<Resend["webhooks"]>(async () => {
    const sdk = await import("resend");
    return new sdk.Resend("re_webhook_verification_only").webhooks;
  });

  return {
    provider: "resend",
    channel: "email",
    paths: [RESEND_WEBHOOK_PATH],
    maxBodyBytes: MAX_WEBHOOK_BYTES,
    async verifyWebhook(request) {
      const headers = {
        id: request.header("svix-id") ?? "",
        timestamp: request.header("svix-timestamp") ?? "",
        signature: request.header("svix-signature") ?? "",
      };
      if (!headers.id || !headers.timestamp || !headers.signature) {
        return { ok: false, message: "Missing svix-id, svix-timestamp or svix-signature" };
      }
      // Outside the try: an SDK that fails to load is the gateway's error, not a bad signature.
      const webhooks = await resendWebhooks();
      try {
        const payload = webhooks.verify({ payload: request.body, headers, webhookSecret: secret });
        return {
          ok: true,
          payload,
          replay: { id: headers.id, rememberSeconds: SEEN_ID_TTL_SECONDS },
        };
      } catch (error) {
        const stale = error instanceof Error && /timestamp/i.test(error.message);
        return {
          ok: false,
          message: stale
            ? "Webhook timestamp is more than 5 minutes off; refused"
            : "Invalid webhook signature",
          warning: { fields: { svixId: headers.id, stale }, message: "resend webhook refused" },
        };
      }
    },
    parseWebhook: (_path, payload, receivedAt) => readResendEvent(payload, receivedAt),
  };
}

import type { Resend } from "resend";
import type { DeliveryTransition } from "../../delivery/delivery-store.js";
import type { DeliveryUpdates } from "../../delivery/delivery-updates.js";
import type { SuppressionReason } from "../../delivery/suppressions.js";
import { loadOnce } from "../../lib/load-once.js";
import { redactContacts } from "../../lib/mask.js";
import type { GatewayApp, GatewayDeps } from "../app-types.js";
import { bodySizeLimit } from "../body-size-limit.js";
import { ApiError } from "../errors.js";
import type { createGatewayMetrics } from "../metrics.js";

export const RESEND_WEBHOOK_PATH = "/webhooks/resend";
/** Resend's email events are a few KiB; an inbound email's event is not read here. */
const MAX_WEBHOOK_BYTES = 256 * 1024;
/**
 * How long a `svix-id` is remembered. A request is refused once its signed timestamp is more
 * than 5 minutes off (the Standard Webhooks tolerance, which the SDK's verify applies), so a
 * captured request can only be replayed inside that window; twice the window covers clock skew.
 */
export const SEEN_ID_TTL_SECONDS = 10 * 60;

/** What one of Resend's events means here. */
export interface ResendReport {
  emailId: string;
  transition: DeliveryTransition;
  /** The recipients to suppress: a Permanent bounce, a complaint, Resend's own suppression. */
  suppress?: { recipients: string[]; reason: SuppressionReason; code?: string };
  bounceType?: string;
  complaint?: boolean;
}

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
export function readResendEvent(event: unknown, receivedAt: number): ResendReport | undefined {
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
      return { emailId, transition: { ...base, status: "sent" } };
    case "email.delivered":
      return { emailId, transition: { ...base, status: "delivered" } };
    case "email.delivery_delayed":
      // Resend keeps trying: a timeline entry, no status.
      return { emailId, transition: base };
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
        emailId,
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
        emailId,
        complaint: true,
        transition: { ...base, status: "complained" },
        suppress: { recipients, reason: "complaint" },
      };
    case "email.failed": {
      const failed = (data.failed ?? {}) as { reason?: unknown };
      const code = typeof failed.reason === "string" ? failed.reason : undefined;
      return { emailId, transition: { ...base, status: "failed", code } };
    }
    case "email.suppressed": {
      // Resend did not send it: the address is on Resend's own suppression list.
      const suppressed = (data.suppressed ?? {}) as { type?: unknown; message?: unknown };
      const code = typeof suppressed.type === "string" ? suppressed.type : "suppressed";
      return {
        emailId,
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
 * `POST /webhooks/resend`, mounted only with RESEND_WEBHOOK_SECRET. Verified from the raw body
 * with the resend SDK's `webhooks.verify` (Svix / Standard Webhooks: `svix-id`,
 * `svix-timestamp`, `svix-signature`, 5 minutes of tolerance); a bad, missing or stale signature
 * is a 401 and changes nothing. A repeated `svix-id` is acknowledged and ignored, and so is an
 * event for an email id this deployment never sent (it suppresses nothing). No API key:
 * the signature is the authentication (and the per-address limit in front of it).
 */
export function registerResendWebhook(
  app: GatewayApp,
  deps: GatewayDeps & { webhooks: { resendSecret: string } },
  services: {
    updates: DeliveryUpdates;
    metrics: ReturnType<typeof createGatewayMetrics>["delivery"];
    keyPrefix: string;
  },
): void {
  const secret = deps.webhooks.resendSecret;
  const { updates, metrics } = services;
  /**
   * The resend SDK's webhook verifier, the SDK (and the MIME parser it brings) loaded by the first
   * Resend webhook instead of at every gateway start: only this route uses it. The client is only
   * used for `webhooks.verify`, which sends nothing: the key is a placeholder. A load that failed
   * is a 500, which Resend retries; the next webhook tries to load it again.
   */
  const resendWebhooks = loadOnce<Resend["webhooks"]>(async () => {
    const sdk = await import("resend");
    return new sdk.Resend("re_webhook_verification_only").webhooks;
  });

  app.post(RESEND_WEBHOOK_PATH, bodySizeLimit(MAX_WEBHOOK_BYTES), async (c) => {
    const payload = await c.req.text();
    const headers = {
      id: c.req.header("svix-id") ?? "",
      timestamp: c.req.header("svix-timestamp") ?? "",
      signature: c.req.header("svix-signature") ?? "",
    };
    if (!headers.id || !headers.timestamp || !headers.signature) {
      metrics.recordWebhook("resend", "refused");
      throw new ApiError("UNAUTHORIZED", "Missing svix-id, svix-timestamp or svix-signature");
    }
    // Outside the try: an SDK that fails to load is the gateway's error (500), not a bad signature.
    const webhooks = await resendWebhooks();
    let event: unknown;
    try {
      event = webhooks.verify({ payload, headers, webhookSecret: secret });
    } catch (error) {
      metrics.recordWebhook("resend", "refused");
      const stale = error instanceof Error && /timestamp/i.test(error.message);
      deps.logger.warn(
        { requestId: c.get("requestId"), svixId: headers.id, stale },
        "resend webhook refused",
      );
      throw new ApiError(
        "UNAUTHORIZED",
        stale
          ? "Webhook timestamp is more than 5 minutes off; refused"
          : "Invalid webhook signature",
      );
    }

    // Replays of a delivered request are acknowledged and ignored.
    const seenKey = `${services.keyPrefix}:webhook-seen:resend:${headers.id}`;
    const fresh = await deps.redis.set(seenKey, "1", "EX", SEEN_ID_TTL_SECONDS, "NX");
    if (fresh === null) {
      metrics.recordWebhook("resend", "duplicate");
      return c.json({ received: true, duplicate: true }, 200);
    }
    const report = readResendEvent(event, Date.now());
    if (!report) {
      metrics.recordWebhook("resend", "ignored");
      return c.json({ received: true }, 200);
    }
    try {
      const result = await updates.providerEvent("resend", report.emailId, report.transition);
      if (result.outcome !== "duplicate") {
        if (report.bounceType) metrics.recordBounce(report.bounceType);
        if (report.complaint) metrics.recordComplaint();
      }
      // Only an email this deployment sent (its id indexed by the worker) suppresses: a signed
      // event for any other id names an address someone else chose. An early event of our own
      // waits for the worker's record (pending) and changes only the record then.
      if (report.suppress && result.outcome !== "pending") {
        for (const recipient of report.suppress.recipients) {
          await updates.suppress({
            channel: "email",
            recipient,
            reason: report.suppress.reason,
            source: "resend",
            code: report.suppress.code,
            at: report.transition.at,
            notificationId: result.notificationId,
            cause: `${report.emailId}:${report.transition.event}`,
          });
        }
      }
      metrics.recordWebhook("resend", result.outcome);
      deps.logger.info(
        {
          requestId: c.get("requestId"),
          provider: "resend",
          event: report.transition.event,
          providerId: report.emailId,
          notificationId: result.notificationId,
          outcome: result.outcome,
        },
        "delivery webhook",
      );
    } catch (error) {
      // Not applied: let Resend retry it (Svix's schedule) under the same svix-id.
      await deps.redis.del(seenKey).catch(() => {});
      throw error;
    }
    return c.json({ received: true }, 200);
  });
}

import type { Context } from "hono";
import type twilio from "twilio";
import { TWILIO_STATUS_CALLBACK_PATH } from "../../contract/delivery-status.js";
import type { DeliveryTransition } from "../../delivery/delivery-store.js";
import { type DeliveryUpdates, maskRecipient } from "../../delivery/delivery-updates.js";
import type { SuppressionList } from "../../delivery/suppressions.js";
import { loadOnce } from "../../lib/load-once.js";
import type { GatewayApp, GatewayDeps, GatewayEnv } from "../app-types.js";
import { bodySizeLimit } from "../body-size-limit.js";
import { ApiError } from "../errors.js";
import type { createGatewayMetrics } from "../metrics.js";

/** Status callbacks: the worker sends every SMS with `StatusCallback` = PUBLIC_URL + this path. */
export const TWILIO_STATUS_PATH = TWILIO_STATUS_CALLBACK_PATH;
/** Incoming messages (STOP, START): the number's or Messaging Service's "A message comes in". */
export const TWILIO_INBOUND_PATH = "/webhooks/twilio/inbound";
const MAX_WEBHOOK_BYTES = 64 * 1024;

/** An empty TwiML answer: no reply (Twilio answers STOP and START itself). */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/**
 * Twilio's default opt-out, opt-in and help keywords, matched against the whole body,
 * case-insensitively (https://help.twilio.com/articles/223134027). With Advanced Opt-Out Twilio
 * names the kind in `OptOutType` itself (and a Messaging Service may add keywords), which wins.
 */
const KEYWORDS: Record<string, "STOP" | "START" | "HELP"> = {
  STOP: "STOP",
  STOPALL: "STOP",
  UNSUBSCRIBE: "STOP",
  CANCEL: "STOP",
  END: "STOP",
  QUIT: "STOP",
  START: "START",
  YES: "START",
  UNSTOP: "START",
  HELP: "HELP",
  INFO: "HELP",
};

/** A form body as the signature covers it: every parameter, repeated ones as arrays. */
export function formParams(raw: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    const existing = params[name];
    if (existing === undefined) params[name] = value;
    else params[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

function single(params: Record<string, string | string[]>, name: string): string | undefined {
  const value = params[name];
  return Array.isArray(value) ? value[0] : value;
}

/** What one status callback means here. */
export interface TwilioStatusReport {
  sid: string;
  transition: DeliveryTransition;
  /** 21610: the recipient had replied STOP; the number is suppressed. */
  suppress?: { recipient: string; code: string };
}

/**
 * Reads a status callback (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status):
 * `sent`, `delivered` (and WhatsApp's `read`), `undelivered` and `failed` with their ErrorCode
 * are statuses; `queued`, `accepted`, `scheduled`, `sending` only go in the timeline.
 */
export function readTwilioStatus(
  params: Record<string, string | string[]>,
  receivedAt: number,
): TwilioStatusReport | undefined {
  const sid = single(params, "MessageSid") ?? single(params, "SmsSid");
  const reported = single(params, "MessageStatus") ?? single(params, "SmsStatus");
  if (!sid || !reported || reported === "received" || reported === "receiving") return undefined;
  const code = single(params, "ErrorCode") || undefined;
  const status =
    reported === "sent"
      ? "sent"
      : reported === "delivered" || reported === "read"
        ? "delivered"
        : reported === "undelivered"
          ? "undelivered"
          : reported === "failed" || reported === "canceled"
            ? "failed"
            : undefined;
  const transition: DeliveryTransition = {
    channel: "sms",
    at: receivedAt,
    source: "twilio",
    event: reported,
    key: `twilio:${sid}:${reported}`,
    providerId: sid,
    ...(status ? { status } : {}),
    ...(code ? { code } : {}),
  };
  const to = single(params, "To");
  return {
    sid,
    transition,
    ...(code === "21610" && to ? { suppress: { recipient: to, code } } : {}),
  };
}

/** The keyword an incoming message is: Twilio's OptOutType, else the body against its defaults. */
export function keywordOf(
  params: Record<string, string | string[]>,
): "STOP" | "START" | "HELP" | undefined {
  const named = single(params, "OptOutType")?.toUpperCase();
  if (named === "STOP" || named === "START" || named === "HELP") return named;
  return KEYWORDS[(single(params, "Body") ?? "").trim().toUpperCase()];
}

/**
 * `POST /webhooks/twilio` (status callbacks) and `POST /webhooks/twilio/inbound` (incoming
 * messages), mounted only with TWILIO_AUTH_TOKEN and PUBLIC_URL. Each is verified with the
 * twilio SDK's `validateRequest` against `X-Twilio-Signature` and the URL Twilio posted to:
 * PUBLIC_URL plus the path and query, since behind Fly's or Railway's proxy Node sees another
 * URL than the public one Twilio signed. A bad or missing signature is a 401 and changes nothing.
 */
export function registerTwilioWebhooks(
  app: GatewayApp,
  deps: GatewayDeps & { webhooks: { twilioAuthToken: string; publicUrl: string } },
  services: {
    updates: DeliveryUpdates;
    suppressions: SuppressionList;
    metrics: ReturnType<typeof createGatewayMetrics>["delivery"];
    keyPrefix: string;
  },
): void {
  const { twilioAuthToken, publicUrl } = deps.webhooks;
  const { updates, metrics } = services;
  /**
   * The twilio SDK's signature check, the SDK loaded by the first Twilio webhook: loading it
   * takes about 0.2 s and 27 MB, which every gateway start paid (on Fly, every wake from zero),
   * though only these routes use it. A load that failed (the package missing) is a 500, which
   * Twilio retries; the next webhook tries to load it again.
   */
  const twilioValidator = loadOnce<typeof twilio.validateRequest>(async () => {
    const sdk = await import("twilio");
    return sdk.default.validateRequest;
  });

  /** The verified form of a request; a 401 for a bad signature, a 500 if the SDK fails to load. */
  async function verified(c: Context<GatewayEnv>): Promise<Record<string, string | string[]>> {
    const raw = await c.req.text();
    const signature = c.req.header("x-twilio-signature");
    if (!signature) {
      metrics.recordWebhook("twilio", "refused");
      throw new ApiError("UNAUTHORIZED", "Missing X-Twilio-Signature");
    }
    const params = formParams(raw);
    const url = `${publicUrl}${c.req.path}${new URL(c.req.url).search}`;
    const validateRequest = await twilioValidator();
    if (!validateRequest(twilioAuthToken, signature, url, params)) {
      metrics.recordWebhook("twilio", "refused");
      deps.logger.warn(
        { requestId: c.get("requestId"), path: c.req.path },
        "twilio webhook refused: the signature does not match PUBLIC_URL and the body",
      );
      throw new ApiError("UNAUTHORIZED", "Invalid X-Twilio-Signature");
    }
    return params;
  }

  const twiml = (c: Context<GatewayEnv>) =>
    c.body(EMPTY_TWIML, 200, { "content-type": "text/xml; charset=utf-8" });

  app.post(TWILIO_STATUS_PATH, bodySizeLimit(MAX_WEBHOOK_BYTES), async (c) => {
    const params = await verified(c);
    const report = readTwilioStatus(params, Date.now());
    if (!report) {
      metrics.recordWebhook("twilio", "ignored");
      return twiml(c);
    }
    const result = await updates.providerEvent("twilio", report.sid, report.transition);
    // Only a message this deployment sent suppresses its recipient (see webhooks-resend.ts).
    if (report.suppress && result.outcome !== "pending") {
      await updates.suppress({
        channel: "sms",
        recipient: report.suppress.recipient,
        reason: "stop",
        source: "twilio",
        code: report.suppress.code,
        at: report.transition.at,
        notificationId: result.notificationId,
        cause: `${report.sid}:${report.transition.event}`,
      });
    }
    metrics.recordWebhook("twilio", result.outcome);
    deps.logger.info(
      {
        requestId: c.get("requestId"),
        provider: "twilio",
        event: report.transition.event,
        code: report.transition.code,
        providerId: report.sid,
        notificationId: result.notificationId,
        outcome: result.outcome,
      },
      "delivery webhook",
    );
    return twiml(c);
  });

  app.post(TWILIO_INBOUND_PATH, bodySizeLimit(MAX_WEBHOOK_BYTES), async (c) => {
    const params = await verified(c);
    const from = single(params, "From");
    const sid = single(params, "MessageSid") ?? single(params, "SmsSid");
    const keyword = keywordOf(params);
    if (!from || !sid || (keyword !== "STOP" && keyword !== "START")) {
      metrics.recordWebhook("twilio", "ignored");
      return twiml(c);
    }
    // Each incoming message acts once, however late it comes back: Twilio signs no timestamp,
    // so a replayed START must never undo a later STOP (nor a STOP a later START).
    if (!(await services.suppressions.claimInbound(from, sid))) {
      metrics.recordWebhook("twilio", "duplicate");
      return twiml(c);
    }
    try {
      if (keyword === "STOP") {
        await updates.suppress({
          channel: "sms",
          recipient: from,
          reason: "stop",
          source: "twilio",
          code: single(params, "OptOutType") ? "OptOutType:STOP" : "STOP",
          at: Date.now(),
          cause: sid,
        });
      } else if (await services.suppressions.remove("sms", from)) {
        metrics.recordLifted("sms", "start");
        deps.logger.info(
          { channel: "sms", to: maskRecipient("sms", from) },
          "suppression lifted: START",
        );
      }
    } catch (error) {
      // Not applied: Twilio retries it under the same MessageSid.
      await services.suppressions.releaseInbound(from, sid).catch(() => {});
      throw error;
    }
    metrics.recordWebhook("twilio", keyword === "STOP" ? "stop" : "start");
    return twiml(c);
  });
}

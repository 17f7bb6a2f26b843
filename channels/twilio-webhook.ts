import type twilio from "twilio";
import { TWILIO_STATUS_CALLBACK_PATH } from "../contract/delivery-status.js";
import type { DeliveryTransition } from "../delivery/delivery-store.js";
import { loadOnce } from "../lib/load-once.js";
import type { RecipientReport, StatusReport, WebhookAdapter } from "./webhook-adapter.js";

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

/**
 * Reads a status callback (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status):
 * `sent`, `delivered` (and WhatsApp's `read`), `undelivered` and `failed` with their ErrorCode
 * are statuses; `queued`, `accepted`, `scheduled`, `sending` only go in the timeline.
 */
export function readTwilioStatus(
  params: Record<string, string | string[]>,
  receivedAt: number,
): StatusReport | undefined {
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
    type: "status",
    providerId: sid,
    transition,
    // 21610: the recipient had replied STOP; the number is suppressed.
    ...(code === "21610" && to ? { suppress: { recipients: [to], reason: "stop", code } } : {}),
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
 * An incoming message (https://www.twilio.com/docs/messaging/guides/webhook-request): STOP and
 * START act, anything else (HELP, a reply) is left to Twilio.
 */
export function readInboundMessage(
  params: Record<string, string | string[]>,
): RecipientReport | undefined {
  const from = single(params, "From");
  const sid = single(params, "MessageSid") ?? single(params, "SmsSid");
  const keyword = keywordOf(params);
  if (!from || !sid || (keyword !== "STOP" && keyword !== "START")) return undefined;
  if (keyword === "START") return { type: "start", recipient: from, messageId: sid, code: "START" };
  const code = single(params, "OptOutType") ? "OptOutType:STOP" : "STOP";
  return { type: "stop", recipient: from, messageId: sid, code };
}

/**
 * Twilio's webhooks, built only with TWILIO_AUTH_TOKEN and PUBLIC_URL: status callbacks at
 * `/webhooks/twilio` and incoming messages at `/webhooks/twilio/inbound`. Each is verified with
 * the twilio SDK's `validateRequest` against `X-Twilio-Signature` and the URL Twilio posted to:
 * PUBLIC_URL plus the path and query, since behind Fly's or Railway's proxy Node sees another
 * URL than the public one Twilio signed. Twilio signs no timestamp nor request id: a replayed
 * status only repeats a timeline entry, and each incoming message acts once by its MessageSid.
 */
export function createTwilioWebhook(options: {
  authToken: string;
  publicUrl: string;
}): WebhookAdapter<Record<string, string | string[]>> {
  /**
   * The twilio SDK's signature check, the SDK loaded by the first Twilio webhook: loading it
   * takes about 0.2 s and 27 MB, which only these webhooks need. A load that failed (the package
   * missing) is thrown (a 500, which Twilio retries); the next webhook tries to load it again.
   */
  const twilioValidator = loadOnce<typeof twilio.validateRequest>(async () => {
    const sdk = await import("twilio");
    return sdk.default.validateRequest;
  });

  return {
    provider: "twilio",
    channel: "sms",
    paths: [TWILIO_STATUS_PATH, TWILIO_INBOUND_PATH],
    maxBodyBytes: MAX_WEBHOOK_BYTES,
    reply: { body: EMPTY_TWIML, contentType: "text/xml; charset=utf-8" },
    async verifyWebhook(request) {
      const signature = request.header("x-twilio-signature");
      if (!signature) return { ok: false, message: "Missing X-Twilio-Signature" };
      const params = formParams(request.body);
      const url = `${options.publicUrl}${request.path}${request.search}`;
      const validateRequest = await twilioValidator();
      if (!validateRequest(options.authToken, signature, url, params)) {
        return {
          ok: false,
          message: "Invalid X-Twilio-Signature",
          warning: {
            fields: { path: request.path },
            message: "twilio webhook refused: the signature does not match PUBLIC_URL and the body",
          },
        };
      }
      return { ok: true, payload: params };
    },
    parseWebhook: (path, params, receivedAt) =>
      path === TWILIO_INBOUND_PATH
        ? readInboundMessage(params)
        : readTwilioStatus(params, receivedAt),
  };
}

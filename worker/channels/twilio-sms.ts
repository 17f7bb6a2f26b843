import { createRequire } from "node:module";
import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient.js";
import type { MessageInstance } from "twilio/lib/rest/api/v2010/account/message.js";
import { z } from "zod";
import { TWILIO_STATUS_CALLBACK_PATH } from "../../contract/delivery-status.js";
import { publicUrlSchema } from "../../lib/env.js";
import { maskPhone } from "../../lib/mask.js";
import type { ChannelAdapter, SendRequest, SendResult } from "./channel-adapter.js";
import { ChannelError } from "./channel-error.js";
import type { ProviderSetup } from "./provider-setup.js";

const TWILIO_API = "https://api.twilio.com";
// twilio-node does not re-export it; required as CommonJS so every loader sees the same class.
const TwilioServiceException: typeof import("twilio/lib/base/TwilioServiceException.js").default =
  createRequire(import.meta.url)("twilio/lib/base/TwilioServiceException.js").default;

/**
 * Twilio error codes (https://www.twilio.com/docs/api/errors) that are not "retry later".
 * Misconfigured: our account, sender or region settings; every SMS would fail alike, so the
 * channel waits for the operator. Permanent: this recipient or this message.
 */
const KIND_BY_CODE: Record<number, ChannelError["kind"]> = {
  20003: "misconfigured", // authentication failed
  20404: "misconfigured", // resource not found: the account SID in the URL is not ours
  21212: "misconfigured", // invalid 'From' number
  21606: "misconfigured", // 'From' is not a valid, SMS-capable number of this account
  21659: "misconfigured", // 'From' is not a Twilio number
  21611: "rate_limited", // the sender's queue is full: it empties at the sender's pace (minutes)
  20429: "rate_limited",
  21211: "permanent", // invalid 'To' number
  21408: "permanent", // sending to this region is not enabled
  21608: "permanent", // trial account: 'To' not verified
  21610: "permanent", // the recipient replied STOP
  21612: "permanent", // 'To' cannot be reached from this sender
  21614: "permanent", // 'To' is not a mobile number
  21617: "permanent", // body too long
  21635: "permanent", // 'To' is a landline
};

/** Connection errors after which the request cannot have reached Twilio. */
const NEVER_SENT_NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * Classifies a Twilio SDK error for the queue: the only place that knows Twilio's errors. The
 * SDK throws RestException for Twilio's classic JSON errors and TwilioServiceException for
 * RFC 9457 problem bodies (twilio-node 6.x); both carry `status` and `code`.
 */
export function classifyTwilioError(error: unknown): ChannelError {
  if (error instanceof twilio.RestException || error instanceof TwilioServiceException) {
    const status = error.status;
    const code = error.code;
    const codeText = String(code ?? status);
    const message =
      (error instanceof TwilioServiceException ? (error.detail ?? error.title) : error.message) ||
      `Twilio answered ${status}`;
    const named = code === undefined ? undefined : KIND_BY_CODE[code];
    // A full sender queue (up to 10 hours of messages) drains over minutes, not a second.
    if (code === 21611)
      return new ChannelError("rate_limited", codeText, message, { retryAfterMs: 60_000 });
    // 21610: the recipient replied STOP: suppressed here too, so later notifications skip the call.
    if (code === 21610)
      return new ChannelError("permanent", codeText, message, { suppress: "stop" });
    if (named) return new ChannelError(named, codeText, message);
    if (status === 429) return new ChannelError("rate_limited", codeText, message);
    if (status === 401 || status === 403) {
      return new ChannelError("misconfigured", codeText, message);
    }
    // A 5xx after Twilio may have queued the message: look before sending again.
    if (status >= 500)
      return new ChannelError("transient", codeText, message, { mayHaveSent: true });
    return new ChannelError("permanent", codeText, message);
  }
  // No answer: a refused connection never reached Twilio; a reset or our timeout may have.
  const code = (error as { code?: string }).code ?? "network_error";
  const message = error instanceof Error ? error.message : String(error);
  return new ChannelError("transient", code, message, {
    mayHaveSent: !NEVER_SENT_NETWORK_CODES.has(code),
  });
}

/**
 * The Twilio SDK has no base URL option; this client rewrites `https://api.twilio.com`
 * so tests and proxies can stand in for Twilio while the real SDK builds every request.
 */
export class RebasedRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: string,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const uri = opts.uri.startsWith(TWILIO_API)
      ? this.baseUrl.replace(/\/$/, "") + opts.uri.slice(TWILIO_API.length)
      : opts.uri;
    return super.request<TData>({ ...opts, uri });
  }
}

/**
 * Twilio stamps `date_created` to the second, with its own clock: an earlier try's message can
 * carry a time up to a second early for the truncation, plus the clocks' skew (NTP keeps it far
 * under 2 s). The look-up's window is our call's start and end widened by these.
 */
const BEFORE_CALL_MARGIN_MS = 3000;
const AFTER_CALL_MARGIN_MS = 2000;
const lookAlikesOf = (request: SendRequest) => request.lookAlikes(request.content.sms);

/** How long a try waits for a look-alike in flight to be claimed. */
const LOOK_ALIKE_WAIT_MS = 2000;
/** Pages of the message list read when looking for an earlier try's message. */
const LOOKUP_PAGE_SIZE = 200;
const LOOKUP_MAX_PAGES = 5;
/** Twilio statuses of a message that never left: sending it again is no duplicate. */
const NOT_SENT = new Set(["failed", "undelivered", "canceled"]);

/**
 * SMS through Twilio. `from` is a phone number or a Messaging Service SID (`MG…`).
 *
 * Its dedup rule: Twilio has no idempotency key, so the processor records each call before it is
 * made (`inFlightSince`). A try that finds such a record looks for the earlier try's own message
 * before sending: one to this number, from our sender, with this body, created since that call,
 * not yet claimed by another notification. Queued messages count: Twilio keeps an accepted
 * message `queued`, with no `date_sent`, until the sender gets to it, so no `DateSent` filter is
 * used. See docs/delivery-guarantees.md for the window this leaves.
 */
export function createTwilioSmsAdapter(options: {
  accountSid: string;
  authToken: string;
  from: string;
  /** Replaces `https://api.twilio.com`; tests and proxies point it elsewhere. */
  apiBaseUrl?: string;
  timeoutMs: number;
  /** Called when a look-up could not read back far enough and the SMS is sent anyway. */
  onLookupIncomplete?: (notificationId: string) => void;
  /** Called when our new message was already claimed by another notification's look-up. */
  onClaimConflict?: (notificationId: string, sid: string) => void;
  /**
   * Where Twilio posts the message's status changes (PUBLIC_URL + /webhooks/twilio): sent with
   * every message, so its final status reaches the gateway's webhook.
   */
  statusCallback?: string;
}): ChannelAdapter {
  const client = twilio(options.accountSid, options.authToken, {
    timeout: options.timeoutMs,
    ...(options.apiBaseUrl
      ? { httpClient: new RebasedRequestClient(options.apiBaseUrl, options.timeoutMs) }
      : {}),
  });
  const viaService = options.from.startsWith("MG");
  const sender = viaService ? { messagingServiceSid: options.from } : { from: options.from };
  const fromUs = (message: MessageInstance) =>
    viaService ? message.messagingServiceSid === options.from : message.from === options.from;

  async function findEarlierTry(request: SendRequest, since: number): Promise<string | undefined> {
    // Another notification sending this same text to this number right now: its message cannot be
    // told from ours until it is claimed. Wait for it (no attempt used) rather than guess.
    const others = await lookAlikesOf(request).others();
    if (others.length > 0) {
      throw new ChannelError(
        "deferred",
        "look_alike_in_flight",
        "another notification is sending the same text to this number",
        { retryAfterMs: LOOK_ALIKE_WAIT_MS, mayHaveSent: true },
      );
    }
    const windowStart = since - BEFORE_CALL_MARGIN_MS;
    // A message created after our unclear call ended is not ours: another notification's.
    const until = request.previous.inFlightUntil;
    const windowEnd = until === undefined ? Number.POSITIVE_INFINITY : until + AFTER_CALL_MARGIN_MS;
    const matches: MessageInstance[] = [];
    let page: { instances: MessageInstance[]; nextPage(): Promise<unknown> | undefined } =
      await client.messages.page({
        to: request.recipient,
        ...(viaService ? {} : { from: options.from }),
        pageSize: LOOKUP_PAGE_SIZE,
      });
    for (let read = 1; ; read++) {
      let reachedOlder = false;
      for (const message of page.instances) {
        // Listed newest first: once a message was sent before the window, every later one
        // was created before it too, whichever of the two dates Twilio sorts by.
        if (message.dateSent && message.dateSent.getTime() < windowStart) reachedOlder = true;
        if (
          message.dateCreated.getTime() >= windowStart &&
          message.dateCreated.getTime() <= windowEnd &&
          message.body === request.content.sms &&
          fromUs(message) &&
          !NOT_SENT.has(message.status)
        ) {
          matches.push(message);
        }
      }
      if (reachedOlder) break;
      const next = (read < LOOKUP_MAX_PAGES ? await page.nextPage() : undefined) as
        | typeof page
        | undefined;
      if (!next) {
        if (read >= LOOKUP_MAX_PAGES) options.onLookupIncomplete?.(request.notificationId);
        break;
      }
      page = next;
    }
    // Oldest first: our earliest call's message, unless another notification holds it.
    matches.sort((a, b) => a.dateCreated.getTime() - b.dateCreated.getTime());
    for (const match of matches) {
      const claimed = await request.claim(match.sid).catch((error: unknown) => {
        // The earlier message may well be ours: never send again on an unanswered claim.
        throw new ChannelError("transient", "claim_failed", String(error), { mayHaveSent: true });
      });
      if (claimed) return match.sid;
    }
    return undefined;
  }

  return {
    channel: "sms",
    provider: "twilio",
    maskRecipient: maskPhone,
    async send(request): Promise<SendResult> {
      try {
        const since = request.previous.inFlightSince;
        if (since !== undefined) {
          const earlier = await findEarlierTry(request, since);
          if (earlier) {
            await lookAlikesOf(request)
              .end()
              .catch(() => {});
            return { providerId: earlier, recovered: true };
          }
        }
        await lookAlikesOf(request).begin();
        const sent = await client.messages.create({
          to: request.recipient,
          body: request.content.sms,
          ...sender,
          ...(options.statusCallback ? { statusCallback: options.statusCallback } : {}),
        });
        // Sent for sure: a failed claim only leaves the index short; a later look-up claims it.
        const claimed = await request.claim(sent.sid).catch(() => true);
        if (!claimed) {
          // Another notification's look-up took this message for its own earlier try (same text,
          // same number, overlapping calls): that one may be an SMS short. Rare; logged.
          options.onClaimConflict?.(request.notificationId, sent.sid);
        }
        await lookAlikesOf(request)
          .end()
          .catch(() => {});
        return { providerId: sent.sid };
      } catch (error) {
        const classified = error instanceof ChannelError ? error : classifyTwilioError(error);
        // A message that may exist keeps us in flight until a later try claims it (or we lapse).
        if (!classified.mayHaveSent)
          await lookAlikesOf(request)
            .end()
            .catch(() => {});
        throw classified;
      }
    },
  };
}

const twilioEnv = {
  TWILIO_ACCOUNT_SID: z.string().startsWith("AC", "must start with AC").optional(),
  TWILIO_AUTH_TOKEN: z.string().optional(),
  /** A Twilio number in E.164 form, or a Messaging Service SID (`MG…`). */
  TWILIO_FROM: z.string().optional(),
  /** Replaces https://api.twilio.com; for proxies and tests. */
  TWILIO_API_BASE_URL: z.url().optional(),
  /**
   * The gateway's public base URL: with it every SMS asks Twilio for status callbacks at
   * PUBLIC_URL/webhooks/twilio (the gateway verifies them with TWILIO_AUTH_TOKEN).
   */
  PUBLIC_URL: publicUrlSchema.optional(),
  /**
   * Twilio calls per second across replicas: the sender's throughput (a US long code sends about
   * 1 segment a second; toll-free, short codes and Messaging Service pools more); 0: no limit.
   */
  SMS_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0).default(10),
};

/** Twilio's configuration and adapter, as the registry lists it. */
export const twilioSmsSetup: ProviderSetup<typeof twilioEnv> = {
  env: twilioEnv,
  check(env, production, require) {
    const anySet = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_FROM].some(
      (value) => value !== undefined,
    );
    if (!production && !anySet) return;
    const why = production
      ? "is required in production"
      : "is required when any TWILIO_ variable is set";
    require("TWILIO_ACCOUNT_SID", why);
    require("TWILIO_AUTH_TOKEN", why);
    require("TWILIO_FROM", why);
  },
  build(env, common) {
    if (!env.TWILIO_ACCOUNT_SID || !env.TWILIO_AUTH_TOKEN || !env.TWILIO_FROM) return undefined;
    return createTwilioSmsAdapter({
      accountSid: env.TWILIO_ACCOUNT_SID,
      authToken: env.TWILIO_AUTH_TOKEN,
      from: env.TWILIO_FROM,
      apiBaseUrl: env.TWILIO_API_BASE_URL,
      timeoutMs: common.timeoutMs,
      ...(env.PUBLIC_URL
        ? { statusCallback: `${env.PUBLIC_URL}${TWILIO_STATUS_CALLBACK_PATH}` }
        : {}),
      onLookupIncomplete: (notificationId) =>
        common.logger?.warn(
          { notificationId, channel: "sms" },
          "look-up for an earlier try read 1,000 messages without reaching the call: sending",
        ),
      onClaimConflict: (notificationId, sid) =>
        common.logger?.error(
          { notificationId, channel: "sms", providerId: sid },
          "another notification took this SMS for its own earlier try: one of the two may be an SMS short",
        ),
    });
  },
  ratePerSecond: (env) => env.SMS_RATE_LIMIT_PER_SECOND,
};

import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient.js";
import type { MessageInstance } from "twilio/lib/rest/api/v2010/account/message.js";
import { z } from "zod";
import { TWILIO_STATUS_CALLBACK_PATH } from "../contract/delivery-status.js";
import { publicUrlSchema } from "../lib/env.js";
import { maskPhone } from "../lib/mask.js";
import type { ChannelAdapter, SendRequest, SendResult } from "./channel-adapter.js";
import { ChannelError } from "./channel-error.js";
import type { ProviderSetup } from "./provider-setup.js";
import { classifyTwilioError } from "./twilio-errors.js";

const TWILIO_API = "https://api.twilio.com";
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

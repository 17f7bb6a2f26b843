import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import twilio from "twilio";
import { answerScripted, delay, listen, ResponseScript, type ScriptedResponse } from "./http.js";

/**
 * A stand-in for Twilio's Programmable Messaging REST API (2010-04-01), reached by the real
 * `twilio` SDK through a RequestClient that rewrites `https://api.twilio.com`. It is as unkind
 * as Twilio where that matters to a sender: an accepted message is only `queued`, and leaves
 * its sender's queue at the sender's pace; the list filters by GMT day, not by instant; the list
 * pages; Twilio's own validation errors come back as Twilio sends them.
 *
 * Sources, cited next to each behaviour below:
 * - Message resource: https://www.twilio.com/docs/messaging/api/message-resource
 * - Twilio's OpenAPI description of it (request parameters, list parameters, response examples):
 *   https://github.com/twilio/twilio-oai/blob/main/spec/yaml/twilio_api_v2010.yaml
 * - Responses, errors and paging: https://www.twilio.com/docs/usage/twilios-response
 *
 * It also calls back, as Twilio does (see "Webhooks" below): status callbacks to a message's
 * `StatusCallback`, and the incoming-message webhook for replies (STOP, START), each a
 * form-encoded POST signed with a real `X-Twilio-Signature`.
 */

/** The magic sender of Twilio's test credentials, and this fake's one owned number by default. */
export const TWILIO_TEST_FROM = "+15005550006";
/**
 * The one number in every Messaging Service's sender pool here (Twilio's documentation example
 * number); a message sent with a MessagingServiceSid goes out from it.
 */
export const MESSAGING_SERVICE_POOL_NUMBER = "+15017122661";

/** An SMS the fake accepted: what the customer will get (in `messages`). */
export interface FakeSms {
  sid: string;
  to: string;
  /** The number it goes out from (the pool number when sent through a Messaging Service). */
  from: string;
  body: string;
  /** When Twilio accepted it (its `date_created`). */
  receivedAt: number;
  /** The Messaging Service it was sent through, or null when sent with `From`. */
  messagingServiceSid: string | null;
  numSegments: number;
  /** When it leaves its sender's queue (its `date_sent`); until then it is `queued`. */
  sentAt: number;
  /** When it turns `delivered`, or null when it stays `sent` (no delivery receipt). */
  deliveredAt: number | null;
  /** The `StatusCallback` URL it was sent with, or null. */
  statusCallback: string | null;
}

/** Every Message resource the fake holds, including ones that failed after creation. */
interface MessageRecord extends FakeSms {
  /** Creation order, the tie-break of the list's order. */
  seq: number;
  /** Set when the message failed after creation (a Messaging Service queue overflow). */
  failure: { code: number; message: string } | null;
  /** Set when the carrier reported it undelivered: when, and Twilio's error code. */
  undelivered: { at: number; code: number } | null;
}

/** A webhook request the fake made: a status callback or an incoming message. */
export interface TwilioCallback {
  kind: "status" | "inbound";
  url: string;
  /** The form parameters, as sent (and signed). */
  params: Record<string, string>;
  headers: Record<string, string>;
  /** The endpoint's answer; undefined while in flight or when none came. */
  status?: number;
  /** The endpoint's answer body (TwiML for an incoming message). */
  responseBody?: string;
  error?: string;
}

export interface FakeTwilioOptions {
  accountSid?: string;
  authToken?: string;
  /** Answer every accepted message this late (after accepting it). */
  latencyMs?: number;
  /**
   * Segments per second each sender (a From number, or a Messaging Service) sends. Twilio's US
   * long codes send 1 segment per second; the default is fast so tests are not paced by it.
   */
  sendRatePerSecond?: number;
  /** A sent message turns `delivered` this long after it left; unset, it stays `sent`. */
  deliveryDelayMs?: number;
  /**
   * Segments a sender may hold queued (not yet left) before Twilio refuses more with 21611.
   * Default: 10 hours' worth at `sendRatePerSecond`.
   */
  maxQueuedPerSender?: number;
  /** The account's senders besides TWILIO_TEST_FROM and the pool number. */
  ownedNumbers?: string[];
  /** The account's Messaging Services; unset, any well-formed `MG…` SID is one. */
  messagingServiceSids?: string[];
  /** Numbers that replied STOP to every sender of the account. */
  optedOut?: string[];
  /** The fake's clock (default Date.now), to make queue departures and dates deterministic. */
  now?: () => number;
  /**
   * Numbers the carrier does not deliver to, with the error code of the `undelivered` status
   * (30003 unreachable, 30005 unknown number, 30006 landline, 30007 filtered).
   * https://www.twilio.com/docs/messaging/guides/debugging-common-issues
   */
  undeliveredNumbers?: Record<string, number>;
  /** Status callbacks of every message in reverse order (the final status first). */
  outOfOrderCallbacks?: boolean;
  /** The incoming-message webhook of the account's numbers ("A message comes in"). */
  inboundUrl?: string;
  /**
   * The Messaging Service the account's numbers belong to, with Advanced Opt-Out on: incoming
   * messages carry its SID and, for a keyword, `OptOutType`. null: plain numbers, no OptOutType.
   */
  inboundMessagingServiceSid?: string | null;
}

/** The Messaging Service, with Advanced Opt-Out, that incoming messages name by default. */
export const INBOUND_MESSAGING_SERVICE_SID = `MG${"a".repeat(32)}`;

/**
 * Twilio's default keywords, matched against the whole body, case-insensitively
 * ("How to Track Opt-Out, Opt-In and Help Messages Using the OptOutType Parameter",
 * https://help.twilio.com/articles/31560110671259 ; the keyword list: "Twilio support for opt-out
 * keywords (SMS STOP filtering)", https://help.twilio.com/articles/223134027).
 */
const OPT_OUT_KEYWORDS = new Set(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]);
const OPT_IN_KEYWORDS = new Set(["START", "YES", "UNSTOP"]);
const HELP_KEYWORDS = new Set(["HELP", "INFO"]);

const API_VERSION = "2010-04-01";
/**
 * Twilio holds a queued message for its validity period, 36,000 s (10 hours) at most, and
 * refuses a sender more than that much queue with 21611.
 * https://www.twilio.com/docs/errors/21611 (the `ValidityPeriod` parameter in the OpenAPI
 * description above: "Accepted values are integers from 1 to 36000. Default value is 36000").
 */
const MAX_QUEUE_SECONDS = 36_000;
const E164 = /^\+[1-9]\d{1,14}$/;
const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
/** Letters, digits and spaces, at most 11, at least one letter: an alphanumeric sender ID. */
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;

export async function startFakeTwilio(options: FakeTwilioOptions = {}) {
  const accountSid = options.accountSid ?? `AC${"0".repeat(32)}`;
  const authToken = options.authToken ?? "twilio_test_token";
  const clock = options.now ?? Date.now;
  const script = new ResponseScript();
  /** Every create call, accepted or not. */
  const calls: Array<{ to: string; from: string; body: string; at: number }> = [];
  /** Every list request (each page is one), e.g. the worker's check before re-sending an SMS. */
  const lookups: Array<{ to: string; at: number; params: Record<string, string> }> = [];
  /** Messages Twilio accepted and will send: what the customers get. */
  const messages: FakeSms[] = [];
  /** Every Message resource, as the list and fetch endpoints see them. */
  const records: MessageRecord[] = [];
  const state = {
    latencyMs: options.latencyMs ?? 0,
    /** Answer every list request this late. */
    lookupLatencyMs: 0,
    sendRatePerSecond: options.sendRatePerSecond ?? 1000,
    deliveryDelayMs: options.deliveryDelayMs,
    maxQueuedPerSender: options.maxQueuedPerSender,
    undeliveredNumbers: new Map(Object.entries(options.undeliveredNumbers ?? {})),
    outOfOrderCallbacks: options.outOfOrderCallbacks ?? false,
    inboundUrl: options.inboundUrl,
    inboundMessagingServiceSid:
      options.inboundMessagingServiceSid === undefined
        ? INBOUND_MESSAGING_SERVICE_SID
        : options.inboundMessagingServiceSid,
  };
  /** Every webhook request the fake made, oldest first. */
  const callbacks: TwilioCallback[] = [];
  /** Each message's status callbacks still to be sent, so tests can wait for them. */
  const callbackChains = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const owned = new Set([
    TWILIO_TEST_FROM,
    MESSAGING_SERVICE_POOL_NUMBER,
    ...(options.ownedNumbers ?? []),
  ]);
  /** `to` opted out of every sender (`*`) or of one sender (a From number or an MG SID). */
  const optOuts = new Set((options.optedOut ?? []).map((number) => `${number}|*`));
  /** When each sender's queue is next free. */
  const queueFreeAt = new Map<string, number>();
  let seq = 0;
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
  const messagesPath = `/2010-04-01/Accounts/${accountSid}/Messages`;

  const app = new Hono();

  // Twilio answers any unknown resource with a 404 and code 20404, its message naming the path.
  // https://www.twilio.com/docs/errors/20404 (body as seen in
  // https://github.com/TwilioDevEd/clicktocall-node/issues/13).
  app.notFound((c) => c.json(notFoundBody(c.req.path), 404));

  // HTTP Basic authentication with the Account SID and Auth Token; anything else is a 401 with
  // code 20003 "Authenticate". Valid credentials of one account used on another account's path
  // get the same 401: the 20003 page lists "Using the wrong combination of Account SID and Auth
  // Token" and "Using subaccount credentials to access master account" among its causes.
  // https://www.twilio.com/docs/errors/20003
  app.use("/2010-04-01/Accounts/:sid/*", async (c, next) => {
    if (c.req.header("authorization") !== expectedAuth || c.req.param("sid") !== accountSid) {
      return c.json(twilioError(401, 20003, "Authenticate").body as object, 401);
    }
    await next();
  });

  // Read multiple Message resources: GET /2010-04-01/Accounts/{AccountSid}/Messages.json.
  // https://www.twilio.com/docs/messaging/api/message-resource#read-multiple-message-resources
  app.get("/2010-04-01/Accounts/:sid/Messages.json", async (c) => {
    const params = c.req.query();
    lookups.push({ to: params.To ?? "", at: clock(), params });
    // A slow list answer (Twilio under load): lets a test kill a worker during its look-up.
    if (state.lookupLatencyMs > 0) await delay(state.lookupLatencyMs);
    const page = listPage(params, clock());
    if (page.error) return c.json(page.error.body as object, 400);
    return c.json(page.body);
  });

  // Fetch a Message resource: GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json;
  // an unknown SID is a 404 with code 20404.
  // https://www.twilio.com/docs/messaging/api/message-resource#fetch-a-message-resource
  app.get("/2010-04-01/Accounts/:sid/Messages/:file", (c) => {
    const sid = c.req.param("file").replace(/\.json$/, "");
    const record = records.find((candidate) => candidate.sid === sid);
    if (!record || !c.req.param("file").endsWith(".json")) {
      return c.json(notFoundBody(c.req.path), 404);
    }
    return c.json(render(record, clock()));
  });

  // Create a Message resource: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded.
  // https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
  app.post("/2010-04-01/Accounts/:sid/Messages.json", async (c) => {
    const form = await c.req.parseBody();
    const input = {
      to: String(form.To ?? ""),
      from: String(form.From ?? ""),
      messagingServiceSid: String(form.MessagingServiceSid ?? ""),
      body: String(form.Body ?? ""),
      statusCallback: String(form.StatusCallback ?? ""),
    };
    calls.push({ to: input.to, from: input.from, body: input.body, at: clock() });
    const scripted = script.next();
    if (scripted && !scripted.deliver) return answerScripted(c, scripted);
    if (scripted) {
      // Accepted first, then the scripted error (after its delay): an ambiguous failure that
      // leaves the SMS sent. A scripted answer stands in for Twilio's own checks.
      accept(input);
      return answerScripted(c, scripted);
    }
    const refused = validate(input);
    if (refused) return c.json(refused.body as object, refused.status as 400);
    const record = accept(input);
    // Accepted first, answered late: a caller that gives up (or dies) meanwhile leaves the SMS sent.
    if (state.latencyMs > 0) await delay(state.latencyMs);
    return c.json(render(record, clock(), { asCreated: true }), 201);
  });

  /** Twilio's own refusals of a create, in the order this fake checks them. */
  function validate(input: {
    to: string;
    from: string;
    messagingServiceSid: string;
    body: string;
  }): ScriptedResponse | undefined {
    const { to, body } = input;
    // 21604 "A 'To' phone number is required"; 21603 "A 'From' or 'MessagingServiceSid'
    // parameter is required"; 21602 "Message body is required" (Body or MediaUrl).
    // https://www.twilio.com/docs/errors/21604 https://www.twilio.com/docs/errors/21603
    // https://www.twilio.com/docs/errors/21602
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    const service = serviceOf(input);
    if (!input.from && !service) {
      return twilioError(
        400,
        21603,
        "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
      );
    }
    if (!body) return twilioError(400, 21602, "Message body is required.");
    // 21211: To must be E.164 ("+" country code and subscriber number, no separators; a US
    // number has 10 digits after +1), must not be the From number itself, and the test number
    // +15005550001 is invalid. https://www.twilio.com/docs/errors/21211
    // https://www.twilio.com/docs/iam/test-credentials (magic To numbers)
    if (!isValidNumber(to) || to === "+15005550001" || to === input.from) {
      return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    }
    if (service !== undefined) {
      // 21705: a MessagingServiceSid that is not a valid MG SID (or not the account's).
      // https://www.twilio.com/docs/api/errors/21705
      const known = options.messagingServiceSids;
      if (!MESSAGING_SERVICE_SID.test(service) || (known && !known.includes(service))) {
        return twilioError(400, 21705, "The Messaging Service is invalid.");
      }
    } else {
      const from = input.from;
      // 21212: a From that is neither a phone number, a short code nor an alphanumeric sender
      // ID; the test number +15005550001 is invalid. https://www.twilio.com/docs/errors/21212
      if (
        from === "+15005550001" ||
        !(E164.test(from) || /^\d{5,6}$/.test(from) || ALPHANUMERIC_SENDER.test(from))
      ) {
        return twilioError(
          400,
          21212,
          `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`,
        );
      }
      // 21606: a From that is not one of the account's message-capable numbers (the test number
      // +15005550007 and "All Others" on the test-credentials page).
      // https://www.twilio.com/docs/errors/21606 https://www.twilio.com/docs/iam/test-credentials
      if (!owned.has(from) || from === "+15005550007") {
        return twilioError(
          400,
          21606,
          "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account",
        );
      }
    }
    // 21617: Body is at most 1,600 characters; characters beyond GSM-7 (emoji) count double, as
    // UTF-16 code units do. https://www.twilio.com/docs/errors/21617
    if (body.length > 1600) {
      return twilioError(
        400,
        21617,
        "The concatenated message body exceeds the 1600 character limit",
      );
    }
    // The test-credentials page's magic To numbers: unroutable (21612), no geo permission
    // (21408), blocked (21610), not SMS-capable (21614).
    // https://www.twilio.com/docs/iam/test-credentials
    const magicTo: Record<string, [number, string]> = {
      "+15005550002": [21612, "Twilio cannot route to this number."],
      "+15005550003": [
        21408,
        "Your account doesn't have the international permissions necessary to SMS this number.",
      ],
      "+15005550004": [21610, "Attempt to send to unsubscribed recipient"],
      "+15005550009": [21614, "'To' number is not a valid mobile number"],
    };
    const magic = magicTo[to];
    if (magic) return twilioError(400, magic[0], magic[1]);
    // 21610: the recipient replied STOP to this sender (or to the Messaging Service, whose
    // senders all stop then); they must reply START first. https://www.twilio.com/docs/errors/21610
    if (isOptedOut(to, input)) {
      return twilioError(400, 21610, "Attempt to send to unsubscribed recipient");
    }
    // 21611: more than 10 hours' worth of queue at the sender's rate (or the test number
    // +15005550008, whose queue is always full). With a Messaging Service Twilio accepts the
    // message instead and fails it after creation with 30001 (see accept).
    // https://www.twilio.com/docs/errors/21611 https://www.twilio.com/docs/iam/test-credentials
    if (
      service === undefined &&
      (input.from === "+15005550008" ||
        queuedSegments(input.from, clock()) + segmentsOf(body) > maxQueued())
    ) {
      return twilioError(
        400,
        21611,
        "This 'From' number has exceeded the maximum number of queued messages",
      );
    }
    return undefined;
  }

  /** Creates the Message resource and puts it in its sender's queue. */
  function accept(input: {
    to: string;
    from: string;
    messagingServiceSid: string;
    body: string;
    statusCallback: string;
  }): MessageRecord {
    const now = clock();
    const service = serviceOf(input) ?? null;
    const sender = service ?? input.from;
    const numSegments = segmentsOf(input.body);
    const undeliveredCode = state.undeliveredNumbers.get(input.to);
    // With a Messaging Service, a full queue fails the message after creation with 30001
    // "Queue overflow" instead of refusing it. https://www.twilio.com/docs/errors/21611
    // https://www.twilio.com/docs/errors/30001
    const overflow =
      service !== null && queuedSegments(sender, now) + numSegments > maxQueued()
        ? { code: 30001, message: "Queue overflow" }
        : null;
    // Each sender sends `sendRatePerSecond` segments a second, one message after another: a
    // message leaves (date_sent) once its last segment has gone. Twilio counts throughput in
    // segments per second per sender. https://www.twilio.com/docs/errors/21611
    // https://www.twilio.com/en-us/blog/what-the-heck-is-a-segment-html
    let sentAt = Number.POSITIVE_INFINITY;
    if (!overflow) {
      sentAt =
        Math.max(now, queueFreeAt.get(sender) ?? 0) +
        (1000 / state.sendRatePerSecond) * numSegments;
      queueFreeAt.set(sender, sentAt);
    }
    const record: MessageRecord = {
      sid: `SM${randomBytes(16).toString("hex")}`,
      to: input.to,
      // A Messaging Service picks the sender from its pool (one number here); `From` may also
      // name a Messaging Service SID. https://www.twilio.com/docs/errors/21603
      from: service ? MESSAGING_SERVICE_POOL_NUMBER : input.from,
      body: input.body,
      receivedAt: now,
      messagingServiceSid: service,
      numSegments,
      sentAt,
      deliveredAt:
        !overflow && state.deliveryDelayMs !== undefined && undeliveredCode === undefined
          ? sentAt + state.deliveryDelayMs
          : null,
      statusCallback: input.statusCallback || null,
      seq: seq++,
      failure: overflow,
      undelivered:
        !overflow && undeliveredCode !== undefined
          ? { at: sentAt + (state.deliveryDelayMs ?? 0), code: undeliveredCode }
          : null,
    };
    records.push(record);
    if (!overflow) messages.push(toFakeSms(record));
    scheduleStatusCallbacks(record);
    return record;
  }

  function serviceOf(input: { from: string; messagingServiceSid: string }): string | undefined {
    if (input.messagingServiceSid) return input.messagingServiceSid;
    return input.from.startsWith("MG") ? input.from : undefined;
  }

  function isOptedOut(to: string, input: { from: string; messagingServiceSid: string }): boolean {
    const service = serviceOf(input);
    const senders = service ? [service, MESSAGING_SERVICE_POOL_NUMBER] : [input.from];
    return optOuts.has(`${to}|*`) || senders.some((sender) => optOuts.has(`${to}|${sender}`));
  }

  function maxQueued(): number {
    return state.maxQueuedPerSender ?? MAX_QUEUE_SECONDS * state.sendRatePerSecond;
  }

  /** Segments of the sender's messages that have not left yet. */
  function queuedSegments(sender: string, now: number): number {
    let total = 0;
    for (const record of records) {
      const key = record.messagingServiceSid ?? record.from;
      if (key === sender && !record.failure && record.sentAt > now) total += record.numSegments;
    }
    return total;
  }

  /**
   * A Message resource as Twilio renders it at `now`. Fields and example values:
   * https://www.twilio.com/docs/messaging/api/message-resource#message-properties
   * Status values: https://www.twilio.com/docs/messaging/api/message-resource#message-status-values
   */
  function render(record: MessageRecord, now: number, opts: { asCreated?: boolean } = {}) {
    let status: string;
    let dateSent: number | null = null;
    let dateUpdated = record.receivedAt;
    let from: string | null = record.from;
    if (opts.asCreated) {
      // The create response shows the initial status: `queued` without a Messaging Service,
      // `accepted` with one (Twilio has not picked the sender yet: `from` is null, as in the
      // OpenAPI example "createWithMessagingService").
      // https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
      status = record.messagingServiceSid ? "accepted" : "queued";
      if (record.messagingServiceSid) from = null;
    } else if (record.failure) {
      status = "failed";
    } else if (record.undelivered && now >= record.undelivered.at) {
      status = "undelivered";
      dateSent = record.sentAt;
      dateUpdated = record.undelivered.at;
    } else if (now < record.sentAt) {
      // Still in the sender's queue: `queued`, and `date_sent` is null until it leaves.
      status = "queued";
    } else if (record.deliveredAt !== null && now >= record.deliveredAt) {
      status = "delivered";
      dateSent = record.sentAt;
      dateUpdated = record.deliveredAt;
    } else {
      status = "sent";
      dateSent = record.sentAt;
      dateUpdated = record.sentAt;
    }
    const uri = `${messagesPath}/${record.sid}.json`;
    return {
      account_sid: accountSid,
      api_version: API_VERSION,
      body: record.body,
      date_created: rfc2822(record.receivedAt),
      date_sent: dateSent === null ? null : rfc2822(dateSent),
      date_updated: rfc2822(dateUpdated),
      direction: "outbound-api",
      error_code: opts.asCreated ? null : (errorOf(record, now)?.code ?? null),
      error_message: opts.asCreated ? null : (errorOf(record, now)?.message ?? null),
      from,
      messaging_service_sid: record.messagingServiceSid,
      num_media: "0",
      num_segments: String(record.numSegments),
      price: null,
      price_unit: "USD",
      sid: record.sid,
      status,
      subresource_uris: { media: `${messagesPath}/${record.sid}/Media.json` },
      to: record.to,
      uri,
    };
  }

  /** The error a fetch shows once the message failed or turned undelivered. */
  function errorOf(record: MessageRecord, now: number) {
    if (record.failure) return record.failure;
    if (record.undelivered && now >= record.undelivered.at) {
      return { code: record.undelivered.code, message: "Message undelivered" };
    }
    return undefined;
  }

  // --- Webhooks -------------------------------------------------------------------------------
  //
  // Status callbacks: https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
  // and, for which status changes call back, https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks :
  // a form-encoded POST for each status change after creation, none for the initial status
  // (`queued` without a Messaging Service; with one the message is created `accepted` and calls
  // back `queued`). Parameters: MessageSid, SmsSid, MessageStatus, SmsStatus, AccountSid, From,
  // To, ApiVersion, ErrorCode when there is an error, MessagingServiceSid with a service, and
  // RawDlrDoneDate on delivered and undelivered (YYMMDDhhmm, https://www.twilio.com/en-us/changelog/addition-of-rawdlrdonedate-to-delivered-and-undelivered-status-webhooks).
  // Each callback is its own HTTP request; nothing orders them at the endpoint. The fake makes
  // that concrete for multi-segment messages, whose per-segment receipts come in late: their
  // final status (delivered, undelivered) is posted before `sent`; `outOfOrderCallbacks` does it
  // for every message.
  //
  // Incoming messages: https://www.twilio.com/docs/messaging/guides/webhook-request (MessageSid,
  // SmsSid, SmsMessageSid, AccountSid, MessagingServiceSid, From, To, Body, NumMedia,
  // NumSegments, SmsStatus, ApiVersion) plus OptOutType (STOP, START, HELP) when the number is in
  // a Messaging Service with Advanced Opt-Out (help article cited at OPT_OUT_KEYWORDS).
  //
  // Signature: X-Twilio-Signature, HMAC-SHA1 with the auth token over the URL and the sorted
  // parameters, made by the twilio SDK's own getExpectedTwilioSignature
  // (https://www.twilio.com/docs/usage/webhooks/webhooks-security).

  /** Posts a signed form to `url` and records it. */
  async function postForm(
    kind: TwilioCallback["kind"],
    url: string,
    params: Record<string, string>,
  ): Promise<TwilioCallback> {
    const callback: TwilioCallback = {
      kind,
      url,
      params,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilio.getExpectedTwilioSignature(authToken, url, params),
        "user-agent": "TwilioProxy/1.1",
      },
    };
    return send(callback);
  }

  async function send(callback: TwilioCallback): Promise<TwilioCallback> {
    callbacks.push(callback);
    try {
      const response = await fetch(callback.url, {
        method: "POST",
        headers: callback.headers,
        body: new URLSearchParams(callback.params).toString(),
      });
      callback.status = response.status;
      callback.responseBody = await response.text();
    } catch (error) {
      callback.error = error instanceof Error ? error.message : String(error);
    }
    return callback;
  }

  function statusParams(
    record: MessageRecord,
    status: string,
    errorCode?: number,
    at?: number,
  ): Record<string, string> {
    const params: Record<string, string> = {
      ApiVersion: API_VERSION,
      AccountSid: accountSid,
      From: record.from,
      To: record.to,
      MessageSid: record.sid,
      SmsSid: record.sid,
      MessageStatus: status,
      SmsStatus: status,
    };
    if (record.messagingServiceSid) params.MessagingServiceSid = record.messagingServiceSid;
    if (errorCode !== undefined) params.ErrorCode = String(errorCode);
    if (at !== undefined && (status === "delivered" || status === "undelivered")) {
      params.RawDlrDoneDate = rawDlrDoneDate(at);
    }
    return params;
  }

  function scheduleStatusCallbacks(record: MessageRecord): void {
    const url = record.statusCallback;
    if (!url) return;
    const now = clock();
    const events: Array<{ status: string; at: number; errorCode?: number }> = [];
    if (record.failure) {
      events.push({ status: "failed", at: now, errorCode: record.failure.code });
    } else {
      if (record.messagingServiceSid) events.push({ status: "queued", at: now });
      events.push({ status: "sent", at: record.sentAt });
      if (record.undelivered) {
        events.push({
          status: "undelivered",
          at: record.undelivered.at,
          errorCode: record.undelivered.code,
        });
      } else if (record.deliveredAt !== null) {
        events.push({ status: "delivered", at: record.deliveredAt });
      }
    }
    const last = events.at(-1);
    const final = last && (last.status === "delivered" || last.status === "undelivered");
    if (final && (record.numSegments > 1 || state.outOfOrderCallbacks)) {
      // The final status first, then `sent` right after it.
      const sentIndex = events.findIndex((event) => event.status === "sent");
      const [sent] = events.splice(sentIndex, 1);
      if (sent) events.push({ ...sent, at: last.at });
    }
    const chain = (async () => {
      for (const event of events) {
        const wait = Math.max(0, event.at - clock());
        if (wait > 0) await sleep(wait);
        if (closed) return;
        await postForm(
          "status",
          url,
          statusParams(record, event.status, event.errorCode, event.at),
        );
      }
    })();
    callbackChains.add(chain);
    void chain.finally(() => callbackChains.delete(chain));
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  /**
   * A customer texts `body` from `from` to one of the account's numbers: Twilio applies its
   * keyword handling (STOP opts the number out of that sender, and of the Messaging Service with
   * Advanced Opt-Out; START opts it back in) and posts the incoming-message webhook.
   */
  async function receiveSms(
    from: string,
    body: string,
    options: { to?: string; url?: string; messagingServiceSid?: string | null } = {},
  ): Promise<TwilioCallback> {
    const url = options.url ?? state.inboundUrl;
    if (!url) throw new Error("no incoming-message webhook configured (inboundUrl)");
    const to = options.to ?? TWILIO_TEST_FROM;
    const service =
      options.messagingServiceSid === undefined
        ? state.inboundMessagingServiceSid
        : options.messagingServiceSid;
    const keyword = body.trim().toUpperCase();
    const type = OPT_OUT_KEYWORDS.has(keyword)
      ? "STOP"
      : OPT_IN_KEYWORDS.has(keyword)
        ? "START"
        : HELP_KEYWORDS.has(keyword)
          ? "HELP"
          : undefined;
    const senders = service ? [to, service] : [to];
    for (const sender of senders) {
      if (type === "STOP") optOuts.add(`${from}|${sender}`);
      if (type === "START") optOuts.delete(`${from}|${sender}`);
    }
    const sid = `SM${randomBytes(16).toString("hex")}`;
    const params: Record<string, string> = {
      ApiVersion: API_VERSION,
      AccountSid: accountSid,
      MessageSid: sid,
      SmsSid: sid,
      SmsMessageSid: sid,
      From: from,
      To: to,
      Body: body,
      NumMedia: "0",
      NumSegments: String(segmentsOf(body)),
      SmsStatus: "received",
    };
    if (service) params.MessagingServiceSid = service;
    if (service && type) params.OptOutType = type;
    return postForm("inbound", url, params);
  }

  /** When the message left, or null while it has not (queued, or failed). */
  function dateSentOf(record: MessageRecord, now: number): number | null {
    return !record.failure && now >= record.sentAt ? record.sentAt : null;
  }

  /**
   * Newest first. Twilio documents the list as sorted by DateSent, most recent first; it does
   * not say where messages without a date_sent go: here they come first (they are the newest),
   * in creation order, newest first. Ties break by creation order.
   * https://www.twilio.com/docs/messaging/api/message-resource#read-multiple-message-resources
   */
  function comesBefore(a: MessageRecord, b: MessageRecord, now: number): boolean {
    const aSent = dateSentOf(a, now) ?? Number.POSITIVE_INFINITY;
    const bSent = dateSentOf(b, now) ?? Number.POSITIVE_INFINITY;
    if (aSent !== bSent) return aSent > bSent;
    return a.seq > b.seq;
  }

  /**
   * One page of the list. Filters To, From and DateSent (=, `DateSent<` for on-or-before,
   * `DateSent>` for on-or-after) at GMT-day granularity; paging with PageSize (default 50, at
   * most 1000), Page (the client's own page number) and PageToken (`PA<sid>`: the page after
   * that message; `PB<sid>`: the page before it), as in the OpenAPI description's list
   * parameters and its "readFullPage1" example response.
   */
  function listPage(params: Record<string, string>, now: number) {
    const dateFilters: Array<{ key: "DateSent" | "DateSent<" | "DateSent>"; day: number }> = [];
    for (const key of ["DateSent", "DateSent<", "DateSent>"] as const) {
      const value = params[key];
      if (value === undefined) continue;
      const day = parseGmtDay(value);
      // An unreadable date: 400, code 20001 "Invalid date value" (as reported in
      // https://github.com/twilio/twilio-cli/issues/99 for DateSent=">=2019-08-08").
      if (day === undefined) return { error: twilioError(400, 20001, "Invalid date value.") };
      dateFilters.push({ key, day });
    }
    const pageSize = Math.min(Math.max(Number.parseInt(params.PageSize ?? "", 10) || 50, 1), 1000);
    const pageNumber = Math.max(Number.parseInt(params.Page ?? "", 10) || 0, 0);
    const matching = records
      .filter((record) => {
        if (params.To !== undefined && record.to !== params.To) return false;
        if (params.From !== undefined && record.from !== params.From) return false;
        if (dateFilters.length === 0) return true;
        // A message with no date_sent (still queued) matches no DateSent filter.
        const sent = dateSentOf(record, now);
        if (sent === null) return false;
        const sentDay = gmtMidnight(sent);
        return dateFilters.every(({ key, day }) =>
          key === "DateSent" ? sentDay === day : key === "DateSent<" ? sentDay <= day : sent >= day,
        );
      })
      .sort((a, b) => (a === b ? 0 : comesBefore(a, b, now) ? -1 : 1));

    let items: MessageRecord[];
    const token = params.PageToken;
    const anchor = token ? records.find((record) => record.sid === token.slice(2)) : undefined;
    if (token && (!anchor || !/^P[AB]/.test(token))) {
      return { error: twilioError(400, 20001, "Invalid PageToken") };
    }
    if (anchor && token?.startsWith("PA")) {
      items = matching.filter((record) => comesBefore(anchor, record, now)).slice(0, pageSize);
    } else if (anchor) {
      items = matching.filter((record) => comesBefore(record, anchor, now)).slice(-pageSize);
    } else {
      // Without a PageToken, Page does not move the window: "This value is simply for client
      // state." (OpenAPI description of Page).
      items = matching.slice(0, pageSize);
    }
    const first = items[0];
    const last = items.at(-1);
    const hasAfter = last ? matching.some((record) => comesBefore(last, record, now)) : false;
    const hasBefore = first ? matching.some((record) => comesBefore(record, first, now)) : false;
    const start = pageNumber * pageSize;
    const body = {
      end: items.length > 0 ? start + items.length - 1 : start,
      first_page_uri: listUri(params, pageSize, 0),
      messages: items.map((record) => render(record, now)),
      next_page_uri:
        last && hasAfter ? listUri(params, pageSize, pageNumber + 1, `PA${last.sid}`) : null,
      page: pageNumber,
      page_size: pageSize,
      previous_page_uri:
        first && hasBefore && pageNumber > 0
          ? listUri(params, pageSize, pageNumber - 1, `PB${first.sid}`)
          : null,
      start,
      uri: listUri(params, pageSize, pageNumber, token),
    };
    return { error: undefined, body };
  }

  /**
   * A list URI as Twilio writes them: the filters, then PageSize, Page and PageToken,
   * form-encoded (`To=%2B123456789&DateSent%3E=2008-01-02&PageSize=2&Page=1&PageToken=PA…`).
   */
  function listUri(
    params: Record<string, string>,
    pageSize: number,
    page: number,
    token?: string,
  ): string {
    const query = new URLSearchParams();
    for (const key of ["To", "From", "DateSent", "DateSent<", "DateSent>"]) {
      const value = params[key];
      if (value !== undefined) query.append(key, value);
    }
    query.append("PageSize", String(pageSize));
    query.append("Page", String(page));
    if (token) query.append("PageToken", token);
    return `${messagesPath}.json?${query.toString()}`;
  }

  function notFoundBody(path: string) {
    return twilioError(404, 20404, `The requested resource ${path} was not found`).body;
  }

  const server = await listen(app);
  return {
    ...server,
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await server.close();
    },
    accountSid,
    authToken,
    script,
    calls,
    lookups,
    messages,
    state,
    /**
     * The number replies STOP: Twilio refuses further messages to it with 21610, from `sender`
     * (a From number or a Messaging Service SID) or, without one, from every sender.
     * https://www.twilio.com/docs/errors/21610
     */
    optOut(number: string, sender?: string) {
      optOuts.add(`${number}|${sender ?? "*"}`);
    },
    /** Every status callback and incoming-message webhook the fake posted, oldest first. */
    callbacks,
    receiveSms,
    /** Posts a recorded callback again, byte for byte (same parameters, same signature). */
    replayCallback(callback: TwilioCallback): Promise<TwilioCallback> {
      const { status: _status, responseBody: _body, error: _error, ...request } = callback;
      return send({ ...request });
    },
    /** Posts a status callback for a message now, signed (a late or a made-up one). */
    postStatusCallback(sid: string, status: string, errorCode?: number) {
      const record = records.find((candidate) => candidate.sid === sid);
      if (!record?.statusCallback) throw new Error(`no message ${sid} with a StatusCallback`);
      return postForm(
        "status",
        record.statusCallback,
        statusParams(record, status, errorCode, clock()),
      );
    },
    /** Resolves once every message's status callbacks have been posted. */
    async callbacksIdle(): Promise<void> {
      while (callbackChains.size > 0) await Promise.all([...callbackChains]);
    },
    /** The number replies START: messages to it are allowed again. */
    optIn(number: string, sender?: string) {
      optOuts.delete(`${number}|${sender ?? "*"}`);
    },
    /** A message's status now (`queued`, `sent`, `delivered`, `failed`), or undefined. */
    status(sid: string): string | undefined {
      const record = records.find((candidate) => candidate.sid === sid);
      return record ? render(record, clock()).status : undefined;
    },
    /** The Message resource as a fetch would answer it now, or undefined. */
    resource(sid: string) {
      const record = records.find((candidate) => candidate.sid === sid);
      return record ? render(record, clock()) : undefined;
    },
  };
}

function toFakeSms(record: MessageRecord): FakeSms {
  const { seq: _seq, failure: _failure, undelivered: _undelivered, ...sms } = record;
  return sms;
}

/** RawDlrDoneDate's format: YYMMDDhhmm (the carrier's time zone; GMT here). */
function rawDlrDoneDate(ms: number): string {
  const date = new Date(ms);
  const two = (value: number) => String(value).padStart(2, "0");
  return (
    two(date.getUTCFullYear() % 100) +
    two(date.getUTCMonth() + 1) +
    two(date.getUTCDate()) +
    two(date.getUTCHours()) +
    two(date.getUTCMinutes())
  );
}

/**
 * A Twilio error body as Twilio's REST API sends it (the SDK throws a RestException with
 * `.status`, `.code`, `.message`, `.moreInfo`).
 * https://www.twilio.com/docs/usage/twilios-response
 */
export function twilioError(status: number, code: number, message: string): ScriptedResponse {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

/**
 * A Twilio error in the RFC 9457 problem-details shape newer Twilio APIs send, as
 * `application/problem+json`: `type`, `title`, `status` (a number) and `code` (a number) are what
 * twilio-node's TwilioServiceException.isRFC9457Response requires before it throws a
 * TwilioServiceException instead of a RestException (create, fetch, update and delete; a list
 * page's error is always a RestException).
 * https://www.rfc-editor.org/rfc/rfc9457 https://github.com/twilio/twilio-node/pull/1164
 */
export function twilioProblem(
  status: number,
  code: number,
  detail: string,
  extra: { title?: string; instance?: string } = {},
): ScriptedResponse {
  return {
    status,
    contentType: "application/problem+json",
    body: {
      type: `https://www.twilio.com/docs/api/errors/${code}`,
      title: extra.title ?? STATUS_TITLES[status] ?? "Error",
      status,
      code,
      detail,
      ...(extra.instance ? { instance: extra.instance } : {}),
    },
  };
}

const STATUS_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** Twilio's dates: RFC 2822 in GMT, e.g. `Thu, 24 Aug 2023 05:01:45 +0000`. */
function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, "+0000");
}

function gmtMidnight(ms: number): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}

/**
 * The GMT day a DateSent filter names, as midnight GMT. Twilio documents only `YYYY-MM-DD`
 * ("Accepts GMT dates in the following formats: YYYY-MM-DD, <=YYYY-MM-DD, >=YYYY-MM-DD"), but
 * twilio-node sends a full timestamp (`serialize.iso8601DateTime`: `2024-05-01T13:45:00Z`) and
 * Twilio accepts it (https://github.com/twilio/twilio-oai/issues/21: "I've tested various formats
 * and they all work"; Twilio's answer: use YYYY-MM-DD). Whether Twilio honours the time of day is
 * not documented; this fake keeps the day only, so `dateSentAfter: 13:45` still finds a message
 * sent at 09:00 that day. Other date forms Date.parse reads give their GMT day.
 */
function parseGmtDay(value: string): number | undefined {
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (day) return Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
  // Date.parse reads almost anything (even ">=2019-08-08"); take only what starts like a date.
  if (!/^(\d|[A-Za-z]{3},? )/.test(value)) return undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : gmtMidnight(parsed);
}

/**
 * E.164 ("+", country code, subscriber number, at most 15 digits), and for North America
 * (+1) exactly 10 digits whose area code and exchange do not start with 0 or 1.
 * https://www.twilio.com/docs/errors/21211
 */
function isValidNumber(number: string): boolean {
  if (!E164.test(number)) return false;
  if (number.startsWith("+1")) return /^\+1[2-9]\d{2}[2-9]\d{6}$/.test(number);
  return number.length >= 8;
}

/** GSM 03.38 basic character set, and its extension table (each of those costs two septets). */
const GSM7_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
const GSM7_EXTENDED = new Set("^{}\\[~]|€\f");

/**
 * Segments of an SMS body. GSM-7: 160 septets in one segment, 153 in each of several (the rest
 * of the 140 bytes carries the concatenation header); any character outside GSM-7 makes the
 * whole body UCS-2: 70 characters in one segment, 67 in each of several.
 * https://www.twilio.com/en-us/blog/what-the-heck-is-a-segment-html
 * https://www.twilio.com/docs/glossary/what-is-gsm-7-character-encoding
 */
export function segmentsOf(body: string): number {
  let septets = 0;
  let gsm7 = true;
  for (const char of body) {
    if (GSM7_BASIC.has(char)) septets += 1;
    else if (GSM7_EXTENDED.has(char)) septets += 2;
    else {
      gsm7 = false;
      break;
    }
  }
  if (gsm7) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  // UCS-2 counts UTF-16 code units (an emoji outside the BMP takes two).
  return body.length <= 70 ? 1 : Math.ceil(body.length / 67);
}

export type FakeTwilio = Awaited<ReturnType<typeof startFakeTwilio>>;

import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient.js";
import { ChannelError } from "../errors.js";
import type { SendResult, SmsMessage } from "./sender.js";

const TWILIO_API = "https://api.twilio.com";

/**
 * Twilio error codes that no retry can fix: invalid or unreachable recipients
 * (21211, 21612, 21614, 21635), an unsubscribed recipient (21610) and a sender that
 * cannot send there (21606, 21608).
 */
const PERMANENT_CODES = new Set([21211, 21606, 21608, 21610, 21612, 21614, 21635]);

/** Classifies a Twilio SDK error for the queue. This is the only place that knows Twilio's errors. */
export function classifyTwilioError(error: unknown): ChannelError {
  if (error instanceof twilio.RestException) {
    const code = String(error.code ?? error.status);
    const message = error.message || `Twilio answered ${error.status}`;
    if (error.status === 429 || error.code === 20429) {
      return new ChannelError("rate_limited", code, message);
    }
    if (error.code !== undefined && PERMANENT_CODES.has(error.code)) {
      return new ChannelError("permanent", code, message);
    }
    if (error.status === 401 || error.status === 403) {
      return new ChannelError("misconfigured", code, message);
    }
    if (error.status >= 500) return new ChannelError("transient", code, message);
    return new ChannelError("permanent", code, message);
  }
  // No answer at all: refused connection, reset, or our timeout (axios' ECONNABORTED).
  const code = (error as { code?: string }).code ?? "network_error";
  const message = error instanceof Error ? error.message : String(error);
  return new ChannelError("transient", code, message);
}

/**
 * The Twilio SDK has no base URL option; this client rewrites `https://api.twilio.com`
 * so tests and proxies can stand in for Twilio while the real SDK builds every request.
 */
class RebasedRequestClient extends twilio.RequestClient {
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

/** Sends SMS through the Twilio SDK. `from` is a phone number or a Messaging Service SID (`MG…`). */
export function createTwilioSmsSender(options: {
  accountSid: string;
  authToken: string;
  from: string;
  /** Replaces `https://api.twilio.com`; tests and proxies point it elsewhere. */
  apiBaseUrl?: string;
  timeoutMs: number;
}): (message: SmsMessage) => Promise<SendResult> {
  const client = twilio(options.accountSid, options.authToken, {
    timeout: options.timeoutMs,
    ...(options.apiBaseUrl
      ? { httpClient: new RebasedRequestClient(options.apiBaseUrl, options.timeoutMs) }
      : {}),
  });
  const sender = options.from.startsWith("MG")
    ? { messagingServiceSid: options.from }
    : { from: options.from };
  return async (message) => {
    try {
      if (message.sentBefore) {
        const earlier = await findSentMessage(client, message, message.sentBefore.since);
        if (earlier) return { providerId: earlier, recovered: true };
      }
      const sent = await client.messages.create({ to: message.to, body: message.body, ...sender });
      return { providerId: sent.sid };
    } catch (error) {
      throw classifyTwilioError(error);
    }
  };
}

/** Twilio statuses of a message that never left: sending it again is no duplicate. */
const NOT_SENT = new Set(["failed", "undelivered", "canceled"]);

/**
 * Twilio has no idempotency key, and a 5xx, a timeout or a worker dying mid-call leaves it
 * unknown whether the SMS went out; Twilio's own advice is to look before sending again.
 * Looks up messages to the same number since `since` (Twilio filters by day) with the same body.
 */
async function findSentMessage(
  client: twilio.Twilio,
  message: SmsMessage,
  since: Date,
): Promise<string | undefined> {
  // One page of up to 1,000 (Twilio's largest), newest first: a number that got more SMS than
  // that in the window is the one case where a repeat can slip through.
  const recent = await client.messages.list({
    to: message.to,
    dateSentAfter: since,
    limit: 1000,
    pageSize: 1000,
  });
  return recent.find(
    (candidate) => candidate.body === message.body && !NOT_SENT.has(candidate.status),
  )?.sid;
}

import { createRequire } from "node:module";
import twilio from "twilio";
import { ChannelError } from "./channel-error.js";

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

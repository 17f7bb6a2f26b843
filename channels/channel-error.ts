import type { FailureKind } from "../contract/delivery-report.js";
import type { SuppressionReason } from "../delivery/suppressions.js";
import { redactContacts } from "../lib/mask.js";

export type { FailureKind };

/**
 * A provider call that failed, classified by the adapter that made it (each adapter's table is
 * in docs/delivery-guarantees.md). What each kind means to the queue:
 * - `permanent`: retrying cannot help (invalid recipient, rejected content): the channel fails now.
 * - `transient`: 5xx, timeouts, connection errors: retried with the job's backoff.
 * - `rate_limited`: the provider said slow down: this provider's channel waits, no attempt used.
 * - `quota`: a daily or monthly allowance is used up: this provider waits until it resets.
 * - `misconfigured`: our credentials, account or sender are wrong: every send would fail the same
 *   way, so this provider waits for the operator instead of failing notifications.
 * - `deferred`: this notification's try must wait `retryAfterMs` (the provider is fine): no attempt.
 */
export class ChannelError extends Error {
  /** The provider's error code (Twilio's numeric code, Resend's error name, or an HTTP status). */
  readonly code: string;
  /** How long the provider asked us to wait, when it said. */
  readonly retryAfterMs: number | undefined;
  /**
   * True when the call may have reached the provider and been accepted despite the error
   * (a 5xx, a timeout, a reset connection): a provider without idempotency keys must be asked
   * before the message is sent again.
   */
  readonly mayHaveSent: boolean;
  /**
   * Set when the provider's answer means the recipient must not be sent to again (Twilio's
   * 21610: they replied STOP): the worker adds them to the suppression list for this reason.
   */
  readonly suppress: SuppressionReason | undefined;
  /**
   * True when the answer says for sure that the message was not sent, by this call or by an
   * earlier one under the same idempotency key (an email listed among a batch answer's errors):
   * the doubt an earlier lost answer left is settled, and the message goes under a new key.
   */
  readonly settlesEarlierCalls: boolean;

  constructor(
    readonly kind: FailureKind,
    code: string,
    message: string,
    options: {
      retryAfterMs?: number;
      mayHaveSent?: boolean;
      suppress?: SuppressionReason;
      settlesEarlierCalls?: boolean;
    } = {},
  ) {
    // Providers quote the recipient ("The 'To' number +1… is not valid"): masked here, once, so
    // no log line, report or failedReason built from this error carries it.
    super(redactContacts(message));
    this.name = "ChannelError";
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.mayHaveSent = options.mayHaveSent ?? false;
    this.suppress = options.suppress;
    this.settlesEarlierCalls = options.settlesEarlierCalls ?? false;
  }
}

/** Parses an HTTP `Retry-After` (seconds or a date) into milliseconds; undefined when absent or bad. */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How a failed provider call should be treated by the queue:
 * - `permanent`: retrying cannot help (invalid recipient, rejected content): fail the channel now.
 * - `transient`: 5xx, timeouts, connection errors: retry with the job's backoff.
 * - `rate_limited`: the provider said 429: wait `retryAfterMs`, then try again.
 * - `misconfigured`: our credentials or sender are wrong (401/403): every job would fail the same way.
 */
export type FailureKind = "permanent" | "transient" | "rate_limited" | "misconfigured";

/** A provider call that failed, classified by the channel that made it. */
export class ChannelError extends Error {
  constructor(
    readonly kind: FailureKind,
    /** The provider's error code (Twilio's numeric code, Resend's error name, or an HTTP status). */
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "ChannelError";
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

import { type ErrorResponse, Resend } from "resend";
import { ChannelError, parseRetryAfter } from "../errors.js";
import type { EmailMessage, SendResult } from "./sender.js";

/** Resend error names that no retry can fix, whatever their status code. */
const PERMANENT_NAMES = new Set([
  "validation_error",
  "invalid_from_address",
  "missing_required_field",
  "invalid_parameter",
  "invalid_attachment",
  "invalid_idempotent_request",
]);

/**
 * Classifies a Resend error for the queue. This is the only place that knows Resend's errors.
 * The SDK reports a failed connection or an aborted request as `statusCode: null`.
 */
export function classifyResendError(
  error: ErrorResponse,
  headers: Record<string, string> | null,
): ChannelError {
  const status = error.statusCode;
  const code = error.name ?? String(status);
  const message = error.message ?? "Resend request failed";
  if (status === 429 || code === "rate_limit_exceeded") {
    return new ChannelError(
      "rate_limited",
      code,
      message,
      parseRetryAfter(headers?.["retry-after"]),
    );
  }
  if (PERMANENT_NAMES.has(code)) return new ChannelError("permanent", code, message);
  if (status === 401 || status === 403) return new ChannelError("misconfigured", code, message);
  // Another request with the same idempotency key is still running: wait and retry.
  if (code === "concurrent_idempotent_requests")
    return new ChannelError("transient", code, message);
  if (status === null || status >= 500) return new ChannelError("transient", code, message);
  return new ChannelError("permanent", code, message);
}

/** Sends email through the Resend SDK. */
export function createResendEmailSender(options: {
  apiKey: string;
  from: string;
  /** Where the SDK sends requests; tests and proxies point it elsewhere. */
  baseUrl?: string;
  timeoutMs: number;
}): (message: EmailMessage) => Promise<SendResult> {
  const resend = new Resend(options.apiKey, options.baseUrl ? { baseUrl: options.baseUrl } : {});
  return async (message) => {
    const { data, error, headers } = await resend.emails.send(
      {
        from: options.from,
        to: message.to,
        subject: message.subject,
        html: message.html,
        text: message.text,
      },
      // Resend keeps the key 24 hours: a retry of the same notification's email is not sent twice.
      { idempotencyKey: message.idempotencyKey, signal: AbortSignal.timeout(options.timeoutMs) },
    );
    if (error) throw classifyResendError(error, headers);
    return { providerId: data.id };
  };
}

import { type ErrorResponse, Resend } from "resend";
import { z } from "zod";
import { maskEmail } from "../lib/mask.js";
import type { ChannelAdapter } from "./channel-adapter.js";
import { ChannelError, parseRetryAfter } from "./channel-error.js";
import type { ProviderSetup } from "./provider-setup.js";

/**
 * Resend's errors (https://resend.com/docs/api-reference/errors) as the queue treats them. The
 * status decides where a name is shared: `validation_error` is a 403 for an unverified domain or
 * test mode (our configuration) and a 422 for a bad field (this message).
 */
const KIND_BY_NAME: Record<string, ChannelError["kind"]> = {
  rate_limit_exceeded: "rate_limited",
  daily_quota_exceeded: "quota",
  monthly_quota_exceeded: "quota",
  // Our sender: every email would be refused the same way until the operator fixes it.
  invalid_from_address: "misconfigured",
  invalid_api_key: "misconfigured",
  missing_api_key: "misconfigured",
  restricted_api_key: "misconfigured",
  // Another request with the same idempotency key is still running: ask again later.
  concurrent_idempotent_requests: "transient",
  // The same key with another body: an earlier try sent something under it; never send again.
  invalid_idempotent_request: "permanent",
};

/**
 * Classifies a Resend error for the queue: the only place that knows Resend's errors. The SDK
 * reports a failed connection, an aborted request or an answer without a JSON error body
 * (a proxy's 502) with no usable status: all transient.
 */
export function classifyResendError(
  error: ErrorResponse,
  headers: Record<string, string> | null,
): ChannelError {
  const status = typeof error.statusCode === "number" ? error.statusCode : null;
  const code = error.name ?? String(status ?? "network_error");
  const message = error.message ?? "Resend request failed";
  const retryAfterMs = parseRetryAfter(headers?.["retry-after"]);
  const named = KIND_BY_NAME[code];
  if (named) return new ChannelError(named, code, message, { retryAfterMs });
  if (status === 429) return new ChannelError("rate_limited", code, message, { retryAfterMs });
  if (status === 401 || status === 403) return new ChannelError("misconfigured", code, message);
  if (status === null || status >= 500) {
    return new ChannelError("transient", code, message, { mayHaveSent: true });
  }
  return new ChannelError("permanent", code, message);
}

/**
 * One email of a permissive batch answer that Resend did not send. Its `errors` entries carry only
 * an index and a message (https://resend.com/docs/dashboard/emails/batch-validation-modes), so the
 * message tells whose fault it is: the recipient's address fails that email; our sender (a domain
 * not verified, test mode, an invalid `from`) holds Resend back as the same fault of a whole
 * request does; anything else is tried again. Either way the email was not sent: it goes next
 * time under a new key, since a replay of this key gets this answer back for 24 hours.
 */
export function classifyBatchEmailError(message: string): ChannelError {
  const settled = { settlesEarlierCalls: true };
  if (/`(to|cc|bcc|reply_to)` field/i.test(message)) {
    return new ChannelError("permanent", "validation_error", message, settled);
  }
  if (/`from`|domain is not verified|testing emails|api key/i.test(message)) {
    return new ChannelError("misconfigured", "validation_error", message, settled);
  }
  return new ChannelError("transient", "validation_error", message, settled);
}

/**
 * Email through Resend. Its dedup rule: the idempotency key, the same on every try of the same
 * notification, so Resend answers a repeat with the first email's id for 24 hours
 * (https://resend.com/docs/dashboard/emails/idempotency-keys); no look-up is needed.
 */
export function createResendEmailAdapter(options: {
  apiKey: string;
  from: string;
  /** Where the SDK sends requests; tests and proxies point it elsewhere. */
  baseUrl?: string;
  timeoutMs: number;
}): ChannelAdapter {
  const resend = new Resend(options.apiKey, options.baseUrl ? { baseUrl: options.baseUrl } : {});
  return {
    channel: "email",
    provider: "resend",
    maskRecipient: maskEmail,
    async send(request) {
      const { data, error, headers } = await resend.emails.send(
        {
          from: options.from,
          to: request.recipient,
          subject: request.content.subject,
          html: request.content.html,
          text: request.content.text,
        },
        {
          idempotencyKey: `${request.notificationKey}/email`,
          signal: AbortSignal.timeout(options.timeoutMs),
        },
      );
      if (error) throw classifyResendError(error, headers);
      // A 5xx with a JSON `null` body reaches us as neither data nor error: it may have sent.
      if (!data) {
        throw new ChannelError("transient", "empty_response", "Resend answered without a body", {
          mayHaveSent: true,
        });
      }
      return { providerId: data.id };
    },
    /**
     * Resend's batch endpoint (https://resend.com/docs/api-reference/emails/send-batch-emails):
     * up to 100 emails, one idempotency key for all. Permissive validation, so an invalid address
     * fails that email only: its index comes back in `errors`, the others' ids in `data`, in order
     * (https://resend.com/docs/dashboard/emails/batch-validation-modes).
     */
    async sendBatch(items, batchKey) {
      const { data, error, headers } = await resend.batch.send(
        items.map((item) => ({
          from: options.from,
          to: item.recipient,
          subject: item.content.subject,
          html: item.content.html,
          text: item.content.text,
        })),
        {
          idempotencyKey: `batch/${batchKey}`,
          batchValidation: "permissive",
          signal: AbortSignal.timeout(options.timeoutMs),
        },
      );
      if (error) throw classifyResendError(error, headers);
      if (!data) {
        throw new ChannelError("transient", "empty_response", "Resend answered without a body", {
          mayHaveSent: true,
        });
      }
      const refused = new Map((data.errors ?? []).map(({ index, message }) => [index, message]));
      const ids = data.data.map(({ id }) => id);
      return items.map((_, index) => {
        const message = refused.get(index);
        if (message !== undefined) return classifyBatchEmailError(message);
        const id = ids.shift();
        return id
          ? { providerId: id }
          : new ChannelError("transient", "batch_result_missing", "No id for this email", {
              mayHaveSent: true,
            });
      });
    },
  };
}

const resendEnv = {
  RESEND_API_KEY: z.string().optional(),
  /** A sender on a domain verified in Resend. */
  EMAIL_FROM: z.string().optional(),
  /** Where the SDK sends requests; for proxies and tests. */
  RESEND_BASE_URL: z.url().optional(),
  /** Resend calls per second across replicas (Resend's default team limit is 2); 0: no limit. */
  EMAIL_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0).default(2),
  /** Emails per Resend request when several wait (its batch endpoint takes 100); 1: no batches. */
  EMAIL_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(100),
};

/** Resend's configuration and adapter, as the registry lists it. */
export const resendEmailSetup: ProviderSetup<typeof resendEnv> = {
  env: resendEnv,
  check(env, production, require) {
    if (!production && env.RESEND_API_KEY === undefined) return;
    require("RESEND_API_KEY", "is required in production");
    require("EMAIL_FROM", production
      ? "is required in production"
      : "is required with RESEND_API_KEY");
  },
  build(env, common) {
    if (!env.RESEND_API_KEY || !env.EMAIL_FROM) return undefined;
    return createResendEmailAdapter({
      apiKey: env.RESEND_API_KEY,
      from: env.EMAIL_FROM,
      baseUrl: env.RESEND_BASE_URL,
      timeoutMs: common.timeoutMs,
    });
  },
  ratePerSecond: (env) => env.EMAIL_RATE_LIMIT_PER_SECOND,
  batching: (env) => (env.EMAIL_BATCH_SIZE > 1 ? { maxSize: env.EMAIL_BATCH_SIZE } : undefined),
};

import { type Job, RateLimitError, UnrecoverableError } from "bullmq";
import {
  CHANNELS,
  type Channel,
  type ChannelDelivery,
  type DeliveryReport,
  initialDeliveryReport,
  type NotificationPayload,
  notificationPayloadSchema,
  readDeliveryReport,
} from "../contract/notification-job.js";
import type { Logger } from "../lib/logger.js";
import { maskEmail, maskPhone } from "../lib/mask.js";
import type { Senders, SendResult } from "./channels/sender.js";
import { ChannelError } from "./errors.js";
import type { WorkerMetrics } from "./metrics.js";
import { renderNotification } from "./templates/index.js";
import type { RenderedNotification } from "./templates/rendered.js";

/** How long the queue pauses when a provider rejects our credentials: long enough not to burn jobs. */
export const MISCONFIGURED_PAUSE_MS = 60_000;
/** Wait after a 429 that came without a usable Retry-After (Twilio's SDK does not expose it). */
const DEFAULT_RATE_LIMIT_WAIT_MS = 1000;

/** What the processor needs besides the job. */
export interface DeliveryContext {
  senders: Senders;
  logger: Logger;
  /** Waits for a slot under the provider's own rate limit (shared by all replicas). */
  acquireSlot(channel: Channel): Promise<void>;
  /** Holds the whole queue back for `ms` (BullMQ's manual rate limit), on every replica. */
  pauseQueue(ms: number): Promise<void>;
  metrics: Pick<WorkerMetrics, "recordSend">;
  /** Wait after a 429 without Retry-After; DEFAULT_RATE_LIMIT_WAIT_MS when unset. */
  rateLimitWaitMs?: number;
}

/**
 * Processes one notification job: sends each channel that is still pending and records what
 * happened per channel in the job's progress.
 *
 * Why per-channel state on the job (and not one queue per channel): a retry re-runs the whole
 * processor, so without it a failed SMS would send the email again. With it, a retry only sends
 * the channels still `pending`. A worker can still die between a provider's success and the state
 * write, so the email also carries a Resend idempotency key, and an SMS retry first looks the
 * message up at Twilio. One job per notification keeps Redis commands per notification low,
 * which is what Upstash bills.
 *
 * Outcomes: all sent → completed; a transient error → thrown, BullMQ retries with backoff;
 * a 429 or bad credentials → the queue waits and the job goes back to waiting without using an
 * attempt; a permanent error → the channel fails at once and the job fails unrecoverably once
 * nothing is left to retry.
 */
export async function deliverNotification(
  job: Job,
  context: DeliveryContext,
): Promise<DeliveryReport> {
  const payload = parsePayload(job, context.logger);
  const recorded = readDeliveryReport(job.progress);
  const report = recorded ? reopenAfterFinalFailure(recorded) : initialDeliveryReport(payload);
  const rendered = renderNotification(payload);

  const pending = CHANNELS.filter((channel) => report[channel].status === "pending");
  const results = await Promise.all(
    pending.map((channel) =>
      sendChannel({ channel, job, payload, rendered, context, state: report[channel] }),
    ),
  );
  for (const result of results) report[result.channel] = result.state;
  const failures = results.flatMap((result) =>
    result.error ? [{ channel: result.channel, error: result.error }] : [],
  );
  const waits = failures.filter(
    ({ error }) => error.kind === "rate_limited" || error.kind === "misconfigured",
  );
  const retryable = failures.filter(({ error }) => error.kind === "transient");
  const outOfRetries = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);

  if (waits.length > 0) {
    await job.updateProgress(report);
    const fallbackMs = context.rateLimitWaitMs ?? DEFAULT_RATE_LIMIT_WAIT_MS;
    await context.pauseQueue(
      longestWait(
        waits.map(({ error }) => error),
        fallbackMs,
      ),
    );
    // BullMQ moves the job back to waiting without counting an attempt.
    throw new RateLimitError();
  }
  if (retryable.length > 0 && !outOfRetries) {
    await job.updateProgress(report);
    throw new Error(
      describeFailures(
        report,
        retryable.map(({ channel }) => channel),
      ),
    );
  }
  // Out of retries: the channels still pending have failed for good.
  for (const { channel } of retryable) report[channel].status = "failed";
  const failed = CHANNELS.filter((channel) => report[channel].status === "failed");
  if (failed.length > 0) {
    // Marks the report so a manual retry (ours or Bull Board's) sends the failed channels again.
    report.final = true;
    await job.updateProgress(report);
    throw new UnrecoverableError(describeFailures(report, failed));
  }
  // A clean first try needs no progress write: the report becomes the job's return value.
  if (recorded) await job.updateProgress(report);
  return report;
}

/**
 * A report that ended in a final failure is being run again: an operator retried it. Its failed
 * channels go back to pending; sent ones stay sent.
 */
function reopenAfterFinalFailure(report: DeliveryReport): DeliveryReport {
  if (!report.final) return report;
  const reopen = (state: ChannelDelivery): ChannelDelivery =>
    state.status === "failed" ? { status: "pending", calls: state.calls } : state;
  return { email: reopen(report.email), sms: reopen(report.sms) };
}

function longestWait(errors: ChannelError[], fallbackMs: number): number {
  return Math.max(
    ...errors.map((error) =>
      error.kind === "misconfigured" ? MISCONFIGURED_PAUSE_MS : (error.retryAfterMs ?? fallbackMs),
    ),
  );
}

/** `sms 21211: Invalid 'To' Phone Number; email internal_server_error: down` */
function describeFailures(report: DeliveryReport, channels: Channel[]): string {
  return channels
    .map((channel) => {
      const error = report[channel].error;
      return `${channel} ${error?.code ?? "unknown"}: ${error?.message ?? "failed"}`;
    })
    .join("; ");
}

/** A payload that fails the schema cannot get better with retries: fail the job at once. */
function parsePayload(job: Job, logger: Logger): NotificationPayload {
  const parsed = notificationPayloadSchema.safeParse(job.data);
  if (parsed.success) return parsed.data;
  const reason = parsed.error.issues
    .map((issue) => `${issue.path.join(".") || "payload"}: ${issue.message}`)
    .join("; ");
  logger.error({ notificationId: job.id, reason }, "invalid job payload, not retried");
  throw new UnrecoverableError(`Invalid notification payload: ${reason}`);
}

interface ChannelAttempt {
  channel: Channel;
  job: Job;
  payload: NotificationPayload;
  rendered: RenderedNotification;
  context: DeliveryContext;
  state: ChannelDelivery;
}

function send(input: ChannelAttempt): Promise<SendResult> {
  const { channel, job, payload, rendered, context } = input;
  if (channel === "email") {
    return context.senders.sendEmail({
      to: payload.to ?? "",
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      // Resend drops a repeat with the same key for 24 hours.
      idempotencyKey: `notification:${job.id}:email`,
    });
  }
  // Any earlier start of this job (a retry, a rate-limit bounce, a dead worker) may have sent it.
  const mayHaveSent = job.attemptsStarted > 1 || input.state.calls > 0;
  return context.senders.sendSms({
    to: payload.phone ?? "",
    body: rendered.sms,
    ...(mayHaveSent ? { sentBefore: { since: new Date(job.timestamp) } } : {}),
  });
}

async function sendChannel(input: ChannelAttempt): Promise<{
  channel: Channel;
  state: ChannelDelivery;
  error?: ChannelError;
}> {
  const { channel, job, payload, context } = input;
  const calls = input.state.calls + 1;
  const log = {
    notificationId: job.id,
    channel,
    attempt: job.attemptsMade + 1,
    to: channel === "email" ? maskEmail(payload.to ?? "") : maskPhone(payload.phone ?? ""),
  };
  await context.acquireSlot(channel);
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const { providerId, recovered } = await send(input);
    context.metrics.recordSend(channel, recovered ? "recovered" : "sent", seconds());
    context.logger.info({ ...log, providerId, ...(recovered ? { recovered } : {}) }, "sent");
    return { channel, state: { status: "sent", calls, providerId } };
  } catch (thrown) {
    const error =
      thrown instanceof ChannelError
        ? thrown
        : new ChannelError("transient", "internal_error", String(thrown));
    context.metrics.recordSend(channel, error.kind, seconds());
    if (error.kind === "misconfigured") {
      context.logger.error(
        { ...log, code: error.code, err: error.message, pauseMs: MISCONFIGURED_PAUSE_MS },
        "provider rejected our credentials or sender: check the configuration; the queue is paused",
      );
    } else {
      context.logger.warn(
        { ...log, code: error.code, kind: error.kind, err: error.message },
        "send failed",
      );
    }
    return {
      channel,
      error,
      state: {
        status: error.kind === "permanent" ? "failed" : "pending",
        calls,
        error: { code: error.code, message: error.message, permanent: error.kind === "permanent" },
      },
    };
  }
}

import { type Job, UnrecoverableError } from "bullmq";
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
import type { Senders } from "./channels/sender.js";
import { ChannelError } from "./errors.js";
import type { RenderedNotification } from "./templates/rendered.js";
import { renderTradeExecuted } from "./templates/trade-executed.js";

/** What the processor needs besides the job. */
export interface DeliveryContext {
  senders: Senders;
  logger: Logger;
}

/**
 * Processes one notification job: sends each channel that is still pending and records what
 * happened per channel in the job's progress.
 *
 * Why per-channel state on the job (and not one queue per channel): a retry re-runs the whole
 * processor, so without it a failed SMS would send the email again. With it, a retry only sends
 * the channels still `pending`; the email is additionally sent with a Resend idempotency key in
 * case the worker died after Resend accepted it but before the state was written. One job per
 * notification also keeps Redis commands per notification low, which is what Upstash bills.
 */
export async function deliverNotification(
  job: Job,
  context: DeliveryContext,
): Promise<DeliveryReport> {
  const parsed = notificationPayloadSchema.safeParse(job.data);
  if (!parsed.success) {
    const reason = parsed.error.issues
      .map((issue) => `${issue.path.join(".") || "payload"}: ${issue.message}`)
      .join("; ");
    context.logger.error({ notificationId: job.id, reason }, "invalid job payload, not retried");
    throw new UnrecoverableError(`Invalid notification payload: ${reason}`);
  }
  const payload = parsed.data;
  const recorded = readDeliveryReport(job.progress);
  const report = recorded ?? initialDeliveryReport(payload);
  const rendered = renderTradeExecuted(payload);
  const attempt = job.attemptsMade + 1;

  const pending = CHANNELS.filter((channel) => report[channel].status === "pending");
  const results = await Promise.all(
    pending.map((channel) =>
      sendChannel({ channel, job, payload, rendered, attempt, context, state: report[channel] }),
    ),
  );
  for (const [index, channel] of pending.entries()) {
    report[channel] = results[index]?.state ?? report[channel];
  }
  const failures = results.flatMap((result) =>
    result.error ? [{ channel: result.channel, error: result.error }] : [],
  );
  const retryable = failures.filter((failure) => !failure.error.permanent);

  if (retryable.length > 0 && attempt >= (job.opts.attempts ?? 1)) {
    // Out of retries: the channels still pending have failed for good.
    for (const { channel } of retryable) report[channel].status = "failed";
  }
  // A clean first try needs no progress write: the report becomes the job's return value.
  if (failures.length > 0 || recorded) await job.updateProgress(report);

  const summary = failures.map(
    ({ channel, error }) => `${channel} ${error.code}: ${error.message}`,
  );
  if (retryable.length > 0) throw new Error(summary.join("; "));
  if (failures.length > 0) throw new UnrecoverableError(summary.join("; "));
  return report;
}

interface ChannelAttempt {
  channel: Channel;
  job: Job;
  payload: NotificationPayload;
  rendered: RenderedNotification;
  attempt: number;
  context: DeliveryContext;
  state: ChannelDelivery;
}

async function sendChannel(input: ChannelAttempt): Promise<{
  channel: Channel;
  state: ChannelDelivery;
  error?: ChannelError;
}> {
  const { channel, job, payload, rendered, attempt, context } = input;
  const calls = input.state.calls + 1;
  const log = {
    notificationId: job.id,
    channel,
    attempt,
    to: channel === "email" ? maskEmail(payload.to ?? "") : maskPhone(payload.phone ?? ""),
  };
  try {
    const { providerId } =
      channel === "email"
        ? await context.senders.sendEmail({
            to: payload.to ?? "",
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
            idempotencyKey: `notification:${job.id}:email`,
          })
        : await context.senders.sendSms({ to: payload.phone ?? "", body: rendered.sms });
    context.logger.info({ ...log, providerId }, "sent");
    return { channel, state: { status: "sent", calls, providerId } };
  } catch (thrown) {
    const error =
      thrown instanceof ChannelError
        ? thrown
        : new ChannelError("transient", "internal_error", String(thrown));
    const level = error.kind === "misconfigured" ? "error" : "warn";
    context.logger[level](
      { ...log, code: error.code, kind: error.kind, err: error.message },
      "send failed",
    );
    const status = error.permanent ? "failed" : "pending";
    return {
      channel,
      error,
      state: {
        status,
        calls,
        error: { code: error.code, message: error.message, permanent: error.permanent },
      },
    };
  }
}

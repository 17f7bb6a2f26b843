import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import { CHANNELS, type Channel, maskRecipient, recipientOf } from "../contract/channels.js";
import {
  type DeliveryReport,
  initialDeliveryReport,
  readDeliveryReport,
} from "../contract/delivery-report.js";
import type { DigestMarker } from "../contract/digest.js";
import {
  applyRetryDefaults,
  type NotificationJobSettings,
  type NotificationPayload,
  notificationPayloadSchema,
} from "../contract/notification-job.js";

import type { Logger } from "../lib/logger.js";
import type { NotificationRenderer } from "../rendering/index.js";
import type { RenderedNotification } from "../rendering/rendered.js";
import {
  type ChannelOutcome,
  decide,
  markInFlight,
  nextChannelState,
  reopenAfterFinalFailure,
} from "./delivery-steps.js";
import {
  collectFill,
  type DigestDeps,
  digestMarkerOf,
  prepareDigest,
} from "./digest/digest-step.js";
import type { WorkerMetrics } from "./metrics.js";
import { type RecordTryDeps, recordTry, suppressRefusedRecipients } from "./record-try.js";
import { type SendChannelDeps, sendChannel } from "./send-channel.js";
import { traceSend } from "./send-span.js";
import type { TryOpener } from "./try-opening.js";

/** What the processor needs besides the job; built once per worker. */
export interface ProcessorDeps extends SendChannelDeps, RecordTryDeps {
  jobSettings: NotificationJobSettings;
  logger: Logger;
  metrics: Pick<WorkerMetrics, "recordSend" | "delivery">;
  /** Digests of partial fills (docs/digests.md); without them every fill is sent on its own. */
  digests?: DigestDeps;
  /** The deployment's renderer (catalogs, brand); pure, so a retry renders the same bytes. */
  render: NotificationRenderer;
  /** Opens each try in one command: the suppression list and the providers' slots. */
  openTry: TryOpener;
}

/**
 * One try of a notification, as a straight line: parse it (or close its digest), hand a fill's
 * digested channels to their digest, open the try (suppressions, provider slots), record the
 * calls about to be made, send each channel still pending, then record what happened and tell
 * BullMQ what comes next.
 *
 * Why per-channel state on the job (and not one queue per channel): a retry re-runs the whole
 * processor, so without it a failed SMS would send the email again. With it, a retry sends only
 * the channels still pending; each adapter's own dedup rule covers a worker dying between the
 * provider's answer and the state write.
 */
export async function processNotification(
  job: Job,
  token: string | undefined,
  deps: ProcessorDeps,
): Promise<DeliveryReport> {
  applyRetryDefaults(job.opts, deps.jobSettings);
  const prepared = await prepareTry(job, deps);
  if ("done" in prepared) return prepared.done;
  const { payload, content, marker, digestCount } = prepared;
  const stored = readDeliveryReport(job.progress);
  const report = stored ? reopenAfterFinalFailure(stored) : initialDeliveryReport(payload);
  /** Each channel as this try found it, for what the delivery record learns from the try. */
  const before = { ...report };
  if (!marker && deps.digests) await routeFills(job, payload, report, deps.digests, deps.logger);

  const outcomes = await openTry(payload, report, deps);
  const going = CHANNELS.filter(
    (channel) => report[channel].status === "pending" && !outcomes[channel],
  );
  // Every call is recorded before it is made: a try after a crash or a lost answer knows the
  // message may have gone (an adapter without idempotency keys looks for it first), and a
  // cancel refuses a notification whose message may be on its way.
  const calledAt = Date.now();
  if (going.length > 0) await job.updateProgress(markCalls(report, going, calledAt));
  await Promise.all(
    going.map(async (channel) => {
      // A span per provider call while tracing is on (send-span.ts); the call alone when off.
      outcomes[channel] = await traceSend(
        channel,
        deps.adapters[channel].provider,
        { notificationId: String(job.id), attempt: job.attemptsMade + 1 },
        () => sendChannel(job, channel, payload, content, report, deps),
      );
    }),
  );

  const after = { ...report };
  for (const channel of CHANNELS) {
    const outcome = outcomes[channel];
    if (!outcome) continue;
    if (outcome.type === "suppressed") noteSuppressed(job, payload, channel, deps);
    after[channel] = nextChannelState(report[channel], outcome, calledAt);
  }
  const { report: final, verdict } = decide(after, outcomes, isLastAttempt(job));
  await suppressRefusedRecipients(job, payload, outcomes, deps);
  await recordTry(job, before, final, verdict, deps);
  switch (verdict.type) {
    case "completed":
      if (marker && digestCount !== undefined && final[marker.channel].status === "sent") {
        deps.digests?.metrics.recordDigestSent(marker.channel, digestCount);
      }
      // The report becomes the job's return value; the gateway reads that first.
      return final;
    case "retry":
      await job.updateProgress(final);
      throw new Error(verdict.reason);
    case "wait":
      await job.updateProgress(final);
      // Back in the delayed set until the provider's wait ends; BullMQ counts no attempt.
      await job.moveToDelayed(verdict.until, token);
      throw new DelayedError();
    case "failed":
      await job.updateProgress(final);
      throw new UnrecoverableError(verdict.reason);
  }
}

/** What a try sends: a digest job's totals (docs/digests.md), or the job's own payload. */
type PreparedTry =
  | {
      payload: NotificationPayload;
      content: RenderedNotification;
      /** Set for a digest job, with the number of fills it reports. */
      marker?: DigestMarker;
      digestCount?: number;
    }
  /** Nothing to send: a second digest job for a collection another job sent. */
  | { done: DeliveryReport };

async function prepareTry(job: Job, deps: ProcessorDeps): Promise<PreparedTry> {
  const marker = deps.digests ? digestMarkerOf(job.data) : undefined;
  if (!marker || !deps.digests) {
    const payload = parsePayload(job, deps.logger);
    return { payload, content: deps.render(payload) };
  }
  const digest = await prepareDigest(job, marker, deps.digests);
  if (!digest.send) {
    const done = initialDeliveryReport(job.data);
    done[marker.channel] = { status: "skipped", calls: 0, digestId: digest.closedBy };
    return { done };
  }
  const digestCount = digest.totals.count;
  const content = deps.render(digest.payload, { fills: digestCount });
  return { payload: digest.payload, content, marker, digestCount };
}

/** A fill's digested channels are recorded in its order's digest, which sends them. */
async function routeFills(
  job: Job,
  payload: NotificationPayload,
  report: DeliveryReport,
  digests: DigestDeps,
  logger: Logger,
): Promise<void> {
  for (const channel of await collectFill(job, payload, report, digests)) {
    const { digestId } = report[channel];
    logger.info({ notificationId: String(job.id), channel, digestId }, "fill digested");
  }
}

/**
 * Opens the try (try-opening.ts): the channels whose recipient is suppressed, and a provider slot
 * for each other pending channel (a batched one's comes from its batcher). Answers the outcome of
 * each channel that is not sent now: suppressed, or waiting for its provider. A channel with a
 * call in doubt (`inFlightSince`) is not checked: its earlier message may have gone, and its
 * adapter finds it. Should Redis fail here, the try fails and is retried: nothing is sent to a
 * recipient who may have opted out.
 */
async function openTry(
  payload: NotificationPayload,
  report: DeliveryReport,
  deps: ProcessorDeps,
): Promise<Partial<Record<Channel, ChannelOutcome>>> {
  const pending = CHANNELS.filter((channel) => report[channel].status === "pending");
  const candidates = pending.flatMap((channel) => {
    const recipient = recipientOf(payload, channel);
    return report[channel].inFlightSince === undefined && recipient ? [{ channel, recipient }] : [];
  });
  const bookings = pending
    .filter((channel) => !deps.batchers[channel])
    .map((channel) => ({ channel, provider: deps.adapters[channel].provider }));
  const opened = await deps.openTry({ candidates, bookings });
  const outcomes: Partial<Record<Channel, ChannelOutcome>> = {};
  for (const channel of opened.suppressed) outcomes[channel] = { type: "suppressed" };
  for (const [channel, reservation] of Object.entries(opened.reservations)) {
    if (!reservation.go) outcomes[channel as Channel] = { type: "waiting", wait: reservation.wait };
  }
  return outcomes;
}

function noteSuppressed(
  job: Job,
  payload: NotificationPayload,
  channel: Channel,
  deps: ProcessorDeps,
): void {
  deps.metrics.delivery.recordSuppressedSend(channel);
  const recipient = recipientOf(payload, channel) ?? "";
  deps.logger.info(
    { notificationId: String(job.id), channel, to: maskRecipient(channel, recipient) },
    "recipient suppressed: channel not sent",
  );
}

/** `report` with each of `channels` marked as called at `calledAt` (markInFlight). */
function markCalls(report: DeliveryReport, channels: Channel[], calledAt: number): DeliveryReport {
  const marked = { ...report };
  for (const channel of channels) marked[channel] = markInFlight(report[channel], calledAt);
  return marked;
}

/** True when a failure of this try is the job's last: BullMQ will not retry it. */
export function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
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

import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import { CHANNELS, type Channel, recipientOf } from "../contract/channels.js";
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
import type { DeliveryStore, DeliveryTransition } from "../lib/delivery-store.js";
import { type DeliveryUpdates, maskRecipient } from "../lib/delivery-updates.js";
import type { Logger } from "../lib/logger.js";
import type { SuppressionList } from "../lib/suppressions.js";
import type { ChannelBatcher } from "./channel-batcher.js";
import type {
  ChannelAdapter,
  LookAlikes,
  SendRequest,
  SendResult,
} from "./channels/channel-adapter.js";
import { ChannelError } from "./channels/channel-error.js";
import {
  type ChannelOutcome,
  decide,
  markInFlight,
  nextChannelState,
  reopenAfterFinalFailure,
  type Verdict,
} from "./delivery-steps.js";
import {
  collectFill,
  type DigestDeps,
  digestMarkerOf,
  prepareDigest,
} from "./digest/digest-step.js";
import type { WorkerMetrics } from "./metrics.js";
import type { ProviderGate, ProviderTrouble } from "./provider-gate.js";
import { traceSend } from "./send-span.js";
import type { NotificationRenderer } from "./templates/index.js";
import type { RenderedNotification } from "./templates/rendered.js";
import type { TryOpener, TryOpening } from "./try-opening.js";

/**
 * A look-alike set as the worker keeps it (`SendRequest.lookAlikes`). `claim` records a provider
 * id as this notification's and, when it is ours, leaves the set in the same Redis command: the
 * adapter's `end` that follows then sends nothing.
 */
export interface InFlightLookAlikes extends LookAlikes {
  claim(provider: string, providerId: string): Promise<boolean>;
  /** What `begin` writes, for a script that joins along with other work (try-opening.ts). */
  readonly joining: { key: string; member: string; ttlMs: number };
  /** Says such a script joined: the `begin` that follows sends nothing. */
  joined(): void;
}

/** A look-alike set joined when the try opened, with the text it is for. */
type JoinedLookAlikes = { text: string; set: InFlightLookAlikes };

/** What the processor needs besides the job; built once per worker. */
export interface ProcessorDeps {
  adapters: Record<Channel, ChannelAdapter>;
  gate: ProviderGate;
  /** Batchers for channels whose provider takes batches, when enabled. */
  batchers?: Partial<Record<Channel, ChannelBatcher>>;
  /** The notifications sending one text to one recipient right now, shared by every replica. */
  lookAlikes(
    channel: Channel,
    recipient: string,
    text: string,
    notificationId: string,
  ): InFlightLookAlikes;
  /** Records provider id → notification id; false when another notification holds it. */
  claimProviderId(provider: string, providerId: string, notificationId: string): Promise<boolean>;
  /** Unique per deployment: with the job's id and timestamp it keys provider idempotency. */
  deploymentId: string;
  jobSettings: NotificationJobSettings;
  /** How long a provider waits after each kind of trouble that names no Retry-After. */
  waitMs: Record<ProviderTrouble, number>;
  logger: Logger;
  metrics: Pick<WorkerMetrics, "recordSend" | "delivery">;
  /** Digests of partial fills (docs/digests.md); without them every fill is sent on its own. */
  digests?: DigestDeps;
  /** The deployment's renderer (catalogs, brand); pure, so a retry renders the same bytes. */
  render: NotificationRenderer;
  /** Opens each try in one command: suppressions, provider slots, the record of the calls. */
  openTry: TryOpener;
  /** The final-status record, the suppression list, and what follows from them. */
  delivery: { store: DeliveryStore; suppressions: SuppressionList; updates: DeliveryUpdates };
}

/**
 * Processes one try of a notification: sends each channel still pending through its adapter and
 * records per channel what happened, in the job's progress.
 *
 * Why per-channel state on the job (and not one queue per channel): a retry re-runs the whole
 * processor, so without it a failed SMS would send the email again. With it, a retry sends only
 * the channels still pending; each adapter's own dedup rule covers a worker dying between the
 * provider's answer and the state write. One job per notification keeps Redis commands per
 * notification low, which is what Upstash bills.
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
  // A fill's digested channels are recorded, not sent: the digest job sends them.
  if (!marker && deps.digests) {
    for (const channel of await collectFill(job, payload, report, deps.digests)) {
      const { digestId } = report[channel];
      deps.logger.info({ notificationId: String(job.id), channel, digestId }, "fill digested");
    }
  }
  // One command: the suppression list, the providers' slots, and (when all go now) the record.
  const opened = await openTry(job, payload, content, report, deps);
  // A suppressed recipient's channel is not sent: no provider call.
  for (const channel of opened.suppressed) {
    report[channel] = { ...report[channel], status: "suppressed" };
  }
  const pending = CHANNELS.filter((channel) => report[channel].status === "pending");
  const outcomes: Partial<Record<Channel, ChannelOutcome>> = {};
  const going: Channel[] = [];
  for (const channel of pending) {
    // A batched channel's slot is reserved once per batch, by its batcher.
    const reservation = deps.batchers?.[channel] ? undefined : opened.reservations[channel];
    if (reservation && !reservation.go)
      outcomes[channel] = { type: "waiting", wait: reservation.wait };
    else going.push(channel);
  }

  // Providers without idempotency keys: record the call before making it, so a try after a
  // crash or an unanswered call knows to look for the message before sending again. The
  // opening wrote it already when nothing was suppressed and every slot was free.
  let calledAt = opened.calledAt;
  const recordFirst = going.filter((channel) => deps.adapters[channel].recordsCallsBeforeSending);
  if (recordFirst.length > 0 && !opened.recorded) {
    calledAt = Date.now();
    await job.updateProgress(markCalls(report, recordFirst, calledAt));
  }

  await Promise.all(
    going.map(async (channel) => {
      // A span per provider call while tracing is on (send-span.ts); the call alone when off.
      outcomes[channel] = await traceSend(
        channel,
        deps.adapters[channel].provider,
        { notificationId: String(job.id), attempt: job.attemptsMade + 1 },
        () => sendChannel(job, channel, payload, content, report, deps, opened.joined[channel]),
      );
    }),
  );
  const after = { ...report };
  for (const channel of pending) {
    const outcome = outcomes[channel];
    if (!outcome) continue;
    const { recordsCallsBeforeSending } = deps.adapters[channel];
    after[channel] = nextChannelState(
      report[channel],
      outcome,
      calledAt,
      recordsCallsBeforeSending,
    );
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

/** `report` with each of `channels` marked as called at `calledAt` (markInFlight). */
function markCalls(report: DeliveryReport, channels: Channel[], calledAt: number): DeliveryReport {
  const marked = { ...report };
  for (const channel of channels) marked[channel] = markInFlight(report[channel], calledAt);
  return marked;
}

/**
 * Opens the try (try-opening.ts): which channels about to be tried have a suppressed recipient,
 * a provider slot for each other pending channel (a batched one's comes from its batcher), and
 * the record of the calls, written at once when every channel goes now. A channel with a call
 * in doubt (`inFlightSince`) is not checked: its adapter looks for the earlier try's message
 * first. Should Redis fail here, the try fails and is retried: nothing is sent to a recipient who
 * may have opted out.
 */
async function openTry(
  job: Job,
  payload: NotificationPayload,
  content: RenderedNotification,
  report: DeliveryReport,
  deps: ProcessorDeps,
): Promise<TryOpening & { calledAt: number; joined: Partial<Record<Channel, JoinedLookAlikes>> }> {
  const pending = CHANNELS.filter((channel) => report[channel].status === "pending");
  const candidates = pending.flatMap((channel) => {
    const recipient = recipientOf(payload, channel);
    return report[channel].inFlightSince === undefined && recipient ? [{ channel, recipient }] : [];
  });
  const bookings = pending
    .filter((channel) => !deps.batchers?.[channel])
    .map((channel) => ({ channel, provider: deps.adapters[channel].provider }));
  // Written only if every pending channel goes now: then these are the calls made.
  const recordFirst = pending.filter((channel) => deps.adapters[channel].recordsCallsBeforeSending);
  // With the record, the look-alike sets these calls join (twilio-sms.ts keys them by the SMS's
  // text, the channel's content), unless a call is in doubt: its adapter looks before it joins.
  const joining: Partial<Record<Channel, JoinedLookAlikes>> = {};
  for (const channel of recordFirst) {
    const text = (content as unknown as Partial<Record<string, unknown>>)[channel];
    const recipient = recipientOf(payload, channel);
    if (typeof text !== "string" || !recipient || report[channel].inFlightSince !== undefined)
      continue;
    joining[channel] = {
      text,
      set: deps.lookAlikes(channel, recipient, text, String(job.id)),
    };
  }
  const calledAt = Date.now();
  const opened = await deps.openTry(job, {
    candidates,
    bookings,
    ...(recordFirst.length > 0 ? { record: markCalls(report, recordFirst, calledAt) } : {}),
    join: Object.values(joining).map(({ set }) => set.joining),
  });
  const joined = opened.recorded ? joining : {};
  for (const { set } of Object.values(joined)) set.joined();
  for (const channel of opened.suppressed) {
    deps.metrics.delivery.recordSuppressedSend(channel);
    const recipient = recipientOf(payload, channel) ?? "";
    deps.logger.info(
      { notificationId: String(job.id), channel, to: maskRecipient(channel, recipient) },
      "recipient suppressed: channel not sent",
    );
  }
  return { ...opened, calledAt, joined };
}

/** A provider's refusal that means "never again" (Twilio's 21610) suppresses the recipient. */
async function suppressRefusedRecipients(
  job: Job,
  payload: NotificationPayload,
  outcomes: Partial<Record<Channel, ChannelOutcome>>,
  deps: ProcessorDeps,
): Promise<void> {
  for (const channel of CHANNELS) {
    const outcome = outcomes[channel];
    const recipient = recipientOf(payload, channel);
    if (outcome?.type !== "failed" || !outcome.error.suppress || !recipient) continue;
    const notificationId = String(job.id);
    await deps.delivery.updates
      .suppress({
        channel,
        recipient,
        reason: outcome.error.suppress,
        source: deps.adapters[channel].provider,
        code: outcome.error.code,
        at: Date.now(),
        notificationId,
        cause: `${notificationId}:${channel}:${outcome.error.code}`,
      })
      .catch((error: unknown) =>
        deps.logger.warn(
          { notificationId, channel, err: error instanceof Error ? error.message : String(error) },
          "could not add the recipient to the suppression list",
        ),
      );
  }
}

/**
 * Writes what this try settled to the notification's delivery record: each channel newly sent
 * (and its provider id, for the webhooks to find), suppressed or failed, the report, and the
 * outcome once final. Webhook events that arrived before the record are applied now, and
 * their delivery events published. A failure to write is logged: the job's own report stands.
 */
async function recordTry(
  job: Job,
  before: DeliveryReport,
  final: DeliveryReport,
  verdict: Verdict,
  deps: ProcessorDeps,
): Promise<void> {
  const notificationId = String(job.id);
  const at = Date.now();
  const transitions: DeliveryTransition[] = [];
  const providerIds: Array<{ provider: string; providerId: string }> = [];
  for (const channel of CHANNELS) {
    const was = before[channel];
    const now = final[channel];
    if (now.status === was.status) continue;
    const common = { channel, at, source: "worker" as const, event: now.status };
    if (now.status === "sent" && now.providerId) {
      transitions.push({
        ...common,
        status: "sent",
        key: `worker:${channel}:sent:${now.providerId}`,
        providerId: now.providerId,
      });
      providerIds.push({ provider: deps.adapters[channel].provider, providerId: now.providerId });
    } else if (now.status === "suppressed") {
      transitions.push({ ...common, status: "suppressed", key: `worker:${channel}:suppressed` });
    } else if (now.status === "failed") {
      transitions.push({
        ...common,
        status: "failed",
        key: `worker:${channel}:failed:${job.attemptsMade}`,
        ...(now.error ? { code: now.error.code, reason: now.error.message } : {}),
      });
    }
  }
  const finished = verdict.type === "completed" || verdict.type === "failed";
  if (transitions.length === 0 && !finished) return;
  const submittedBy = (job.data as { submittedBy?: unknown } | null)?.submittedBy;
  try {
    const drained = await deps.delivery.store.recordWorker({
      notificationId,
      ...(typeof submittedBy === "string" ? { submittedBy } : {}),
      createdAt: job.timestamp,
      attemptsMade: job.attemptsMade + 1,
      report: final,
      ...(finished
        ? {
            outcome: {
              status: verdict.type,
              finishedAt: at,
              ...(verdict.type === "failed" ? { failedReason: verdict.reason } : {}),
            },
          }
        : {}),
      transitions,
      providerIds,
    });
    for (const event of drained) {
      if (event.outcome === "changed") {
        await deps.delivery.updates.statusChanged(notificationId, event.transition);
      }
    }
  } catch (error) {
    deps.logger.warn(
      { notificationId, err: error instanceof Error ? error.message : String(error) },
      "could not write the delivery record",
    );
  }
}

/** True when a failure of this try is the job's last: BullMQ will not retry it. */
export function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/** The channel's send through its adapter, turned into an outcome; provider waits are set here. */
async function sendChannel(
  job: Job,
  channel: Channel,
  payload: NotificationPayload,
  content: RenderedNotification,
  report: DeliveryReport,
  deps: ProcessorDeps,
  /** The look-alike set the opening joined for this channel's call. */
  joined?: JoinedLookAlikes,
): Promise<ChannelOutcome> {
  const adapter = deps.adapters[channel];
  const notificationId = String(job.id);
  const recipient = recipientOf(payload, channel) ?? "";
  const log = {
    notificationId,
    channel,
    provider: adapter.provider,
    attempt: job.attemptsMade + 1,
    to: adapter.maskRecipient(recipient),
  };
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  // The look-alike set the adapter asked for, one per text: its claims leave it in the same command.
  let lookAlikes: JoinedLookAlikes | undefined = joined;
  let usedJoined = false;
  const request: SendRequest = {
    notificationKey: `${deps.deploymentId}/${notificationId}/${job.timestamp}`,
    notificationId,
    recipient,
    content,
    previous: report[channel],
    claim: (providerId) =>
      lookAlikes
        ? lookAlikes.set.claim(adapter.provider, providerId)
        : deps.claimProviderId(adapter.provider, providerId, notificationId),
    lookAlikes: (text) => {
      if (text === joined?.text) usedJoined = true;
      if (lookAlikes?.text !== text) {
        lookAlikes = { text, set: deps.lookAlikes(channel, recipient, text, notificationId) };
      }
      return lookAlikes.set;
    },
  };
  try {
    const batcher = deps.batchers?.[channel];
    let result: SendResult;
    if (batcher) {
      // An earlier try (a retry, a crash) may have put this email in a batch: re-send that one.
      const mayHaveBatched = report[channel].calls > 0 || job.attemptsStarted > 1;
      const outcome = await batcher.send(request, mayHaveBatched);
      if (outcome instanceof ChannelError) throw outcome;
      if ("wait" in outcome) return { type: "waiting", wait: outcome.wait };
      result = outcome;
    } else {
      result = await adapter.send(request);
    }
    const recovered = result.recovered === true;
    deps.metrics.recordSend(channel, recovered ? "recovered" : "sent", seconds());
    deps.logger.info(
      { ...log, providerId: result.providerId, ...(recovered ? { recovered } : {}) },
      "sent",
    );
    return { type: "sent", providerId: result.providerId, recovered };
  } catch (thrown) {
    const error =
      thrown instanceof ChannelError
        ? thrown
        : new ChannelError("transient", "internal_error", String(thrown), { mayHaveSent: true });
    deps.metrics.recordSend(channel, error.kind, seconds());
    const details = { ...log, code: error.code, kind: error.kind, err: error.message };
    if (error.kind === "permanent" || error.kind === "transient") {
      deps.logger.warn(details, "send failed");
      return { type: "failed", error };
    }
    if (error.kind === "deferred") {
      // This notification's try waits; the provider is fine and no one else waits.
      deps.logger.info(details, "send deferred");
      const until = Date.now() + (error.retryAfterMs ?? 1000);
      return { type: "waiting", wait: { until, reason: "deferred", code: error.code }, error };
    }
    const waitMs = error.retryAfterMs ?? deps.waitMs[error.kind];
    const wait = await deps.gate.hold(adapter.provider, waitMs, error.kind, error.code);
    const message =
      error.kind === "rate_limited"
        ? "provider rate limit: this provider's sends wait"
        : error.kind === "quota"
          ? "provider quota used up: this provider's sends wait until it resets"
          : "provider refused our credentials, account or sender: fix the configuration; this provider's sends wait";
    deps.logger[error.kind === "rate_limited" ? "warn" : "error"](
      { ...details, waitMs: wait.until - Date.now() },
      message,
    );
    return { type: "waiting", wait, error };
  } finally {
    // An adapter that never asked for the set the opening joined for it (none keyed by that
    // text) leaves it now, so no look-alike waits on a call that was not made.
    if (joined && !usedJoined) await joined.set.end().catch(() => {});
  }
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

import type { Job } from "bullmq";
import type { ChannelAdapter, SendRequest, SendResult } from "../channels/channel-adapter.js";
import { ChannelError } from "../channels/channel-error.js";
import { type Channel, recipientOf } from "../contract/channels.js";
import type { DeliveryReport } from "../contract/delivery-report.js";
import type { NotificationPayload } from "../contract/notification-job.js";
import type { Logger } from "../lib/logger.js";
import type { RenderedNotification } from "../rendering/rendered.js";
import type { ChannelBatcher } from "./channel-batcher.js";
import type { ChannelOutcome } from "./delivery-steps.js";
import type { LookAlikeSets } from "./look-alikes.js";
import type { WorkerMetrics } from "./metrics.js";
import type { ProviderGate, ProviderTrouble } from "./provider-gate.js";

/** What sending one channel needs besides the job; built once per worker. */
export interface SendChannelDeps {
  adapters: Record<Channel, ChannelAdapter>;
  gate: ProviderGate;
  /** Batchers for channels whose provider takes batches, when enabled. */
  batchers: Partial<Record<Channel, ChannelBatcher>>;
  lookAlikes: LookAlikeSets;
  /** Unique per deployment: with the job's id and timestamp it keys provider idempotency. */
  deploymentId: string;
  /** How long a provider waits after each kind of trouble that names no Retry-After. */
  waitMs: Record<ProviderTrouble, number>;
  logger: Logger;
  metrics: Pick<WorkerMetrics, "recordSend">;
}

/**
 * One channel's send, through its batcher or its adapter, turned into an outcome. A provider's
 * trouble (a 429, a quota, our sender refused) becomes that provider's wait, set here.
 */
export async function sendChannel(
  job: Job,
  channel: Channel,
  payload: NotificationPayload,
  content: RenderedNotification,
  report: DeliveryReport,
  deps: SendChannelDeps,
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
  const request: SendRequest = {
    notificationKey: `${deps.deploymentId}/${notificationId}/${job.timestamp}`,
    notificationId,
    recipient,
    content,
    previous: report[channel],
    claim: (providerId) => deps.lookAlikes.claim(adapter.provider, providerId, notificationId),
    lookAlikes: (text) => deps.lookAlikes.of(channel, recipient, text, notificationId),
  };
  try {
    const result = await send(request, adapter, deps.batchers[channel]);
    if ("type" in result) return result;
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
    deps.logger[error.kind === "rate_limited" ? "warn" : "error"](
      { ...details, waitMs: wait.until - Date.now() },
      WAIT_MESSAGES[error.kind],
    );
    return { type: "waiting", wait, error };
  }
}

const WAIT_MESSAGES = {
  rate_limited: "provider rate limit: this provider's sends wait",
  quota: "provider quota used up: this provider's sends wait until it resets",
  misconfigured:
    "provider refused our credentials, account or sender: fix the configuration; this provider's sends wait",
} as const;

/** Through the batcher when the channel has one; its waits and suppressions come back as outcomes. */
async function send(
  request: SendRequest,
  adapter: ChannelAdapter,
  batcher: ChannelBatcher | undefined,
): Promise<SendResult | ChannelOutcome> {
  if (!batcher) return adapter.send(request);
  const outcome = await batcher.send(request);
  if (outcome instanceof ChannelError) throw outcome;
  if ("wait" in outcome) return { type: "waiting", wait: outcome.wait };
  if ("suppressed" in outcome) return { type: "suppressed" };
  return outcome;
}

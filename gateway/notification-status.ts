import { z } from "@hono/zod-openapi";
import type { Job } from "bullmq";
import { CHANNELS, type Channel } from "../contract/channels.js";
import {
  type ChannelDelivery,
  channelDeliverySchema,
  type DeliveryReport,
  initialDeliveryReport,
  readDeliveryReport,
} from "../contract/delivery-report.js";
import {
  type ChannelStatus,
  channelStatusSchema,
  deliveryTimelineEntrySchema,
} from "../contract/delivery-status.js";
import type { DeliveryRecord } from "../delivery/delivery-store.js";

/*
 * The contract's schemas may be built before @hono/zod-openapi extends zod (the worker's modules
 * import them first), and only schemas built after it have `.openapi`: `.extend({})` builds one.
 */

/** What the provider reported after accepting a channel's message: its final status so far. */
const ChannelFinalStatus = channelStatusSchema.extend({}).openapi("ChannelDeliveryStatus");

/** One channel as the API reports it: what the worker did, and what the provider said since. */
const ChannelReport = channelDeliverySchema
  .extend({
    delivery: ChannelFinalStatus.optional().describe(
      "The provider's word on the message once accepted: sent, delivered, bounced, complained, undelivered or failed (suppressed: never sent); moves forward only",
    ),
  })
  .openapi("ChannelReport");

/** Each channel's report (without `final`, the worker's own mark). */
const Channels = z
  .object(
    Object.fromEntries(CHANNELS.map((channel) => [channel, ChannelReport])) as Record<
      Channel,
      typeof ChannelReport
    >,
  )
  .openapi("DeliveryChannels");

const Timeline = z
  .array(deliveryTimelineEntrySchema.extend({}).openapi("DeliveryTimelineEntry"))
  .describe("Every event reported for the notification's channels, oldest first");

/**
 * The states this API reports; a retry waiting out its backoff is `delayed`; `cancelled` is kept
 * from the record for the retention once a key cancelled it.
 */
export const NotificationState = z.enum([
  "queued",
  "active",
  "delayed",
  "completed",
  "failed",
  "cancelled",
]);
export type NotificationState = z.infer<typeof NotificationState>;

/** A notification as `GET /notifications/{id}` and the list report it. */
export const NotificationStatus = z
  .object({
    id: z.string(),
    status: NotificationState,
    attemptsMade: z.number().int(),
    createdAt: z.string().describe("ISO 8601"),
    finishedAt: z.string().optional().describe("ISO 8601, once completed or failed"),
    failedReason: z.string().optional(),
    cancelledAt: z.string().optional().describe("ISO 8601, once cancelled"),
    cancelledBy: z
      .string()
      .optional()
      .describe("The id of the API key that cancelled it (the first 16 hex digits of its SHA-256)"),
    channels: Channels,
    timeline: Timeline.optional(),
  })
  .openapi("NotificationStatus");
export type NotificationStatus = z.infer<typeof NotificationStatus>;

/** BullMQ's job states as this API names them. */
export const STATE_BY_BULLMQ_STATE: Record<string, NotificationState> = {
  waiting: "queued",
  prioritized: "queued",
  "waiting-children": "queued",
  active: "active",
  delayed: "delayed",
  completed: "completed",
  failed: "failed",
};

/** A job's delivery report: its return value once completed, its progress while under way. */
export function reportOf(job: Job): DeliveryReport {
  const data = typeof job.data === "object" && job.data !== null ? job.data : {};
  return (
    readDeliveryReport(job.returnvalue) ??
    readDeliveryReport(job.progress) ??
    initialDeliveryReport(data)
  );
}

/** Timeline entries oldest first; those of one instant in the order they were received. */
function byTime(timeline: DeliveryRecord["timeline"]): DeliveryRecord["timeline"] {
  return timeline
    .map((entry, index) => ({ entry, index, at: Date.parse(entry.at) }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ entry }) => entry);
}

/** Each channel of `report`, with its final status from `record` when there is one. */
function channelsOf(
  report: DeliveryReport,
  record?: DeliveryRecord,
): NotificationStatus["channels"] {
  const channels = Object.fromEntries(
    CHANNELS.map((channel) => {
      const delivery: ChannelStatus | undefined = record?.channels[channel];
      return [channel, { ...report[channel], ...(delivery ? { delivery } : {}) }];
    }),
  );
  return Channels.parse(channels);
}

/**
 * Describes a job for the API, with its delivery record's final statuses and timeline when
 * given; never includes the recipient's contact details.
 */
export function describeJob(
  job: Job,
  status: NotificationState,
  record?: DeliveryRecord,
): NotificationStatus {
  const report = reportOf(job);
  return {
    id: String(job.id),
    status,
    attemptsMade: job.attemptsMade,
    createdAt: new Date(job.timestamp).toISOString(),
    ...(job.finishedOn ? { finishedAt: new Date(job.finishedOn).toISOString() } : {}),
    ...(status === "failed" && job.failedReason ? { failedReason: job.failedReason } : {}),
    channels: channelsOf(report, record),
    ...(record ? { timeline: byTime(record.timeline) } : {}),
  };
}

/** A channel's report rebuilt from its final status alone (a record without the worker's report). */
function channelFromStatus(delivery: ChannelStatus | undefined): ChannelDelivery {
  if (!delivery) return { status: "skipped", calls: 0 };
  if (delivery.status === "suppressed") return { status: "suppressed", calls: 0 };
  if (delivery.status === "failed" && !delivery.providerId) return { status: "failed", calls: 1 };
  return {
    status: "sent",
    calls: 1,
    ...(delivery.providerId ? { providerId: delivery.providerId } : {}),
  };
}

/**
 * Describes a notification whose job was removed (BullMQ trims finished jobs after a day) from
 * its delivery record, kept for DELIVERY_STATUS_RETENTION_DAYS.
 */
export function describeRecord(record: DeliveryRecord): NotificationStatus {
  const report =
    readDeliveryReport(record.report) ??
    (Object.fromEntries(
      CHANNELS.map((channel) => [channel, channelFromStatus(record.channels[channel])]),
    ) as unknown as DeliveryReport);
  const failed = CHANNELS.some((channel) => report[channel].status === "failed");
  const status = record.outcome ?? (failed ? "failed" : "completed");
  const createdAt = record.createdAt ?? Date.parse(record.timeline[0]?.at ?? "");
  return {
    id: record.notificationId,
    status,
    attemptsMade: record.attemptsMade ?? 0,
    createdAt: new Date(Number.isNaN(createdAt) ? 0 : createdAt).toISOString(),
    ...(record.finishedAt ? { finishedAt: new Date(record.finishedAt).toISOString() } : {}),
    ...(status === "failed" && record.failedReason ? { failedReason: record.failedReason } : {}),
    ...(record.cancelledAt ? { cancelledAt: new Date(record.cancelledAt).toISOString() } : {}),
    ...(record.cancelledBy ? { cancelledBy: record.cancelledBy } : {}),
    channels: channelsOf(report, record),
    timeline: byTime(record.timeline),
  };
}

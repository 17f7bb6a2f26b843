/**
 * The processor's two digest steps. A fill's digested channel is recorded in its order's
 * collection and its digest job scheduled, instead of being sent; a digest job closes its
 * collection and becomes an ordinary notification carrying the totals. Both are idempotent, so
 * a job run again after a crash or a retry repeats them harmlessly.
 */
import { DelayedError, type Job, type Queue, UnrecoverableError } from "bullmq";
import {
  CHANNEL_RECIPIENT_FIELDS,
  CHANNELS,
  type Channel,
  recipientOf,
} from "../../contract/channels.js";
import { positiveTotal } from "../../contract/decimal.js";
import type { DeliveryReport } from "../../contract/delivery-report.js";
import {
  contradictionMessage,
  type DigestMarker,
  digestMarkerSchema,
  digestTenantOf,
  TRADE_DIGEST_JOB,
} from "../../contract/digest.js";
import {
  type NotificationJobSettings,
  type NotificationPayload,
  notificationJobOptions,
  notificationPayloadSchema,
} from "../../contract/notification-job.js";
import type { WorkerMetrics } from "../metrics.js";
import type { DigestCollections, RecordedFill } from "./collection.js";
import { type DigestConfig, digestedChannels } from "./policy.js";
import { type FillTotals, totalFills } from "./totals.js";

/** What the digest steps need; built once per worker. */
export interface DigestDeps {
  config: DigestConfig;
  collections: DigestCollections;
  /** The notifications queue, to add digest jobs to. */
  queue: Queue;
  jobSettings: NotificationJobSettings;
  metrics: Pick<WorkerMetrics, "recordFillCollected" | "recordDigestSent">;
}

/** The digest marker of a job's data, when the job is a digest. */
export function digestMarkerOf(data: unknown): DigestMarker | undefined {
  const marker = (data as { digestOf?: unknown } | null)?.digestOf;
  if (marker === undefined) return undefined;
  const parsed = digestMarkerSchema.safeParse(marker);
  if (!parsed.success) throw new UnrecoverableError("Invalid digest job: bad digestOf");
  return parsed.data;
}

/**
 * Records each pending channel of a fill that its policy digests, and marks it `digested` with
 * its digest's id in `report`. Returns the channels so marked.
 *
 * A fill is its order's fill id: when another job already carries it (a producer's retry), this
 * job counts nothing twice and sends nothing of its own, its other channels being `skipped`
 * (`repeated_fill`). A fill whose terms contradict its order's first fill fails the job. Both
 * hold for fills that some channel digests: the order's record is kept by the digest step.
 */
export async function collectFill(
  job: Job,
  payload: NotificationPayload,
  report: DeliveryReport,
  deps: DigestDeps,
): Promise<Channel[]> {
  const fill = payload.fill;
  if (!fill) return [];
  const timings = digestedChannels(payload, deps.config);
  if (Object.keys(timings).length === 0) return [];
  const tenant = digestTenantOf((job.data as { submittedBy?: unknown }).submittedBy);
  const claim = await deps.collections.claim(
    { tenant, order: payload.order, fillId: fill.id, jobId: String(job.id) },
    payload,
  );
  if (claim.state === "conflict") {
    const given = String(payload[claim.term as keyof NotificationPayload] ?? "");
    throw new UnrecoverableError(contradictionMessage(fill.id, claim.term, given, claim.orders));
  }
  const channels = (Object.keys(timings) as Channel[]).filter(
    (channel) => report[channel].status === "pending",
  );
  for (const channel of channels) {
    const timing = timings[channel];
    const recipient = recipientOf(payload, channel);
    if (!timing || recipient === undefined) continue;
    const recorded = await deps.collections.record({
      channel,
      tenant,
      order: payload.order,
      recipient,
      fillId: fill.id,
      final: fill.final,
      figures: {
        quantity: payload.quantity,
        amount: payload.amount,
        ...(payload.price ? { price: payload.price } : {}),
      },
      payload: digestPayload(job, payload, channel, recipient),
      timing,
    });
    if (recorded.added) deps.metrics.recordFillCollected(channel);
    // A repeat of a fill whose digest already went: nothing to schedule, point at that digest.
    const digestId =
      recorded.closedBy ?? (await scheduleDigest(recorded, channel, recipient, job, deps));
    report[channel] = { status: "digested", calls: 0, digestId };
  }
  if (claim.jobId !== String(job.id)) skipRepeatedFill(report, fill.id, claim.jobId);
  return channels;
}

/** Marks each channel still pending `skipped`: the fill's first job sends it. */
function skipRepeatedFill(report: DeliveryReport, fillId: string, firstJobId: string): void {
  for (const channel of CHANNELS) {
    if (report[channel].status !== "pending") continue;
    report[channel] = {
      status: "skipped",
      calls: 0,
      error: {
        code: "repeated_fill",
        message: `Fill ${fillId} of this order is notification ${firstJobId}'s, which sends it`,
        permanent: true,
      },
    };
  }
}

/** What every fill of the group shares, for the digest message: the first fill's. */
function digestPayload(
  job: Job,
  payload: NotificationPayload,
  channel: Channel,
  recipient: string,
): Record<string, unknown> {
  const submittedBy = (job.data as { submittedBy?: unknown }).submittedBy;
  return {
    type: payload.type,
    [CHANNEL_RECIPIENT_FIELDS[channel]]: recipient,
    asset: payload.asset,
    currency: payload.currency,
    order: payload.order,
    ...(payload.side ? { side: payload.side } : {}),
    ...(payload.locale ? { locale: payload.locale } : {}),
    ...(payload.timeZone ? { timeZone: payload.timeZone } : {}),
    ...(typeof submittedBy === "string" ? { submittedBy } : {}),
  };
}

/**
 * Adds the collection's digest job, due at `recorded.due`: one BullMQ deduplication id per
 * collection, so while that job exists an add changes nothing and answers its id. No add moves
 * the job later: the jobs of two fills may add in the opposite order to their records, and a
 * window's later due would then override a final fill's. The due time in the collection is
 * authoritative instead: a digest job that runs before it waits again until then
 * (prepareDigest), and a fill that made it sooner wakes the job to look.
 */
async function scheduleDigest(
  recorded: RecordedFill,
  channel: Channel,
  recipient: string,
  job: Job,
  deps: DigestDeps,
): Promise<string> {
  const marker: DigestMarker = { channel, group: recorded.group, seq: recorded.seq };
  const submittedBy = (job.data as { submittedBy?: unknown }).submittedBy;
  const digest = await deps.queue.add(
    TRADE_DIGEST_JOB,
    {
      [CHANNEL_RECIPIENT_FIELDS[channel]]: recipient,
      ...(typeof submittedBy === "string" ? { submittedBy } : {}),
      digestOf: marker,
    },
    {
      ...notificationJobOptions(deps.jobSettings),
      delay: Math.max(0, recorded.due - Date.now()),
      deduplication: { id: `${recorded.group}:${recorded.seq}` },
    },
  );
  if (recorded.sooner) await wake(digest);
  return String(digest.id);
}

/**
 * Makes a delayed digest job run now, to look at its collection's due time. A job already waiting
 * looks anyway; a running one re-reads the due time once it has moved itself back to delayed.
 */
async function wake(digest: Job): Promise<void> {
  try {
    await digest.promote();
  } catch (error) {
    if (await digest.isDelayed()) throw error;
  }
}

/**
 * Puts a digest job that ran before its collection's due time back in the delayed set until
 * then (no attempt used). A fill recorded after the close script read the due time, whose wake
 * found this job running, may have made it sooner: read it again once delayed, and wake.
 */
async function waitUntilDue(
  job: Job,
  marker: DigestMarker,
  due: number,
  deps: DigestDeps,
): Promise<never> {
  await job.moveToDelayed(due, job.token);
  const now = await deps.collections.dueOf(marker.group, marker.seq);
  if (now !== undefined && now < due) await wake(job);
  throw new DelayedError();
}

/**
 * A digest's payload: a fill's, with totals in place of its figures. A sum of fills may pass the
 * 18 integer digits one fill may have; the total's own bound is what the fill limit allows.
 */
const digestPayloadSchema = notificationPayloadSchema.safeExtend({
  quantity: positiveTotal,
  amount: positiveTotal,
  price: positiveTotal.optional(),
});

/** A digest job made ready to send: its payload carries the totals, or it has nothing to send. */
export type PreparedDigest =
  | { send: true; payload: NotificationPayload; totals: FillTotals }
  | { send: false; closedBy: string };

/**
 * Closes the digest's collection (the same answer on every run of this job) and computes its
 * totals once; the fills are then dropped and the totals kept, so a run after a crash sends the
 * very same message, which the channel's exactly-once rules recognise.
 */
export async function prepareDigest(
  job: Job,
  marker: DigestMarker,
  deps: DigestDeps,
): Promise<PreparedDigest> {
  const closed = await deps.collections.close(marker.group, marker.seq, String(job.id));
  if (closed.state === "missing") {
    throw new UnrecoverableError("Digest collection not found (expired or removed)");
  }
  if (closed.state === "early") return waitUntilDue(job, marker, closed.due, deps);
  // Another job closed it (a late fill re-added this collection's job after it finished).
  if (closed.state === "stray") return { send: false, closedBy: closed.closedBy };
  let totals = closed.totals;
  if (!totals) {
    totals = totalFills(closed.fills);
    await deps.collections.trim(marker.group, marker.seq, totals);
  }
  const parsed = digestPayloadSchema.safeParse({
    ...closed.payload,
    quantity: totals.quantity,
    amount: totals.amount,
    price: totals.averagePrice,
  });
  if (!parsed.success) throw new UnrecoverableError(`Invalid digest: ${parsed.error.message}`);
  return { send: true, payload: parsed.data, totals };
}

import { randomUUID } from "node:crypto";
import type { NotificationRequest } from "../contract/notification-job.js";
import { MAX_TIMELINE_ENTRIES } from "../delivery/delivery-store.js";
import { createNotificationIndex, searchFieldsOf } from "../delivery/notification-index.js";
import { DEFAULT_DELIVERY_RETENTION_SECONDS } from "../lib/env.js";
import { inSpan } from "../lib/tracing.js";
import type { GatewayDeps } from "./app-types.js";
import { DEFAULT_MAX_SCHEDULED_PER_KEY } from "./env.js";
import { ApiError } from "./errors.js";
import { createIdempotencyStore, fingerprintOf, notificationIdFor } from "./idempotency.js";
import { jobFromRequest, type NotificationJob } from "./job-from-request.js";

/** One notification to queue, with the caller's idempotency key when it sent one. */
export interface EnqueueItem {
  request: NotificationRequest;
  idempotencyKey?: string;
}

/** What became of an item: queued (or replayed), or refused with an error. */
export type EnqueueOutcome = { id: string; replayed: boolean } | { error: ApiError };

/**
 * Queues notifications for the single and the batch route alike: new items go to Redis in one
 * `addBulk` round trip; an item with an idempotency key is queued at most once per key and
 * caller (a repeat gets the first id, another body a 422, a repeat still being accepted a 409).
 */
export function createEnqueuer(deps: GatewayDeps) {
  const store = createIdempotencyStore(deps.redis, deps.queue.qualifiedName);
  const searchIndex = createNotificationIndex({
    redis: deps.redis,
    keyPrefix: deps.queue.qualifiedName,
    retentionSeconds: deps.deliveryRetentionSeconds ?? DEFAULT_DELIVERY_RETENTION_SECONDS,
  });
  const maxScheduled = deps.limits?.maxScheduledPerKey ?? DEFAULT_MAX_SCHEDULED_PER_KEY;

  /**
   * Records and indexes a job before it is added, so that a notification answered 202 is already
   * findable by its key, order and recipient; a scheduled one takes a place under its key's cap,
   * or is refused (429) past it.
   */
  async function accept(
    job: NotificationJob,
    scope: string,
    context: { requestId?: string; idempotencyKey?: string; now: number },
  ): Promise<ApiError | undefined> {
    const id = String(job.opts.jobId);
    const delay = job.opts.delay ?? 0;
    const entry = {
      at: new Date(context.now).toISOString(),
      source: "gateway",
      event: "accepted",
      keyId: scope,
      ...(context.requestId ? { requestId: context.requestId } : {}),
      ...(context.idempotencyKey ? { idempotencyKey: context.idempotencyKey } : {}),
    };
    const result = await searchIndex.accept({
      id,
      submittedBy: scope,
      fields: searchFieldsOf(job.data, context.now),
      record: { submittedBy: scope, createdAt: String(context.now) },
      timelineEntry: JSON.stringify(entry),
      maxTimeline: MAX_TIMELINE_ENTRIES,
      ...(delay > 0 ? { sendAt: context.now + delay } : {}),
      maxScheduled,
      now: context.now,
    });
    if (result.accepted) return undefined;
    const wait = Math.max(1, Math.ceil((result.earliestSendAt - context.now) / 1000));
    return new ApiError(
      "TOO_MANY_REQUESTS",
      `This key has ${maxScheduled} scheduled notifications, the most it may hold; cancel some or schedule again once they are sent`,
      { "Retry-After": String(wait) },
    );
  }

  /** Takes back the acceptances of jobs that could not be added. */
  async function withdrawAll(jobs: NotificationJob[], scope: string, now: number): Promise<void> {
    await Promise.all(
      jobs.map((job) =>
        searchIndex
          .withdraw(String(job.opts.jobId), scope, searchFieldsOf(job.data, now))
          .catch(() => {}),
      ),
    );
  }

  async function addAll(jobs: NotificationJob[]): Promise<void> {
    if (jobs.length === 0) return;
    // One job: a single command. Several: addBulk, one round trip (MULTI/EXEC around the adds).
    // A Redis failure reaches the error handler, which answers it (infrastructure-errors.ts).
    // A child span of the request's while tracing is on; BullMQ's own add span nests in it.
    await inSpan("enqueue", { attributes: { "notification.count": jobs.length } }, async () => {
      const [only] = jobs;
      if (jobs.length === 1 && only) await deps.queue.add(only.name, only.data, only.opts);
      else await deps.queue.addBulk(jobs);
    });
  }

  /**
   * Marks a claimed key's job queued, without waiting: its SET is written before the answer, and
   * this connection keeps its commands in order, so a repeat through this gateway finds the key
   * confirmed; a repeat through another replica before the SET lands finds the claim and gets 409
   * with Retry-After. Should the SET fail, the claim lapses within PENDING_TTL_SECONDS (10 s),
   * repeats get 409 until then, and the next one re-adds under the same job id, which BullMQ
   * ignores: the key's first id is answered again.
   */
  function confirmUnawaited(scope: string, key: string, fingerprint: string, id: string): void {
    store.confirm(scope, key, fingerprint, id).catch(() => {});
  }

  return async function enqueue(
    scope: string,
    items: EnqueueItem[],
    requestId?: string,
  ): Promise<EnqueueOutcome[]> {
    const outcomes: EnqueueOutcome[] = new Array(items.length);
    const now = Date.now();
    /** New notifications: accepted (recorded, indexed) together, then added together. */
    const fresh: Array<{ at: number; job: NotificationJob; key?: string; fingerprint?: string }> =
      [];
    for (const [at, { request, idempotencyKey }] of items.entries()) {
      if (idempotencyKey === undefined) {
        // A fill is its order's fill id: posted again, BullMQ ignores the add under the same id
        // while the first job is kept, and the first id is answered.
        const id = request.fill
          ? notificationIdFor(scope, `fill\n${request.order}\n${request.fill.id}`)
          : randomUUID();
        fresh.push({
          at,
          job: stamped(jobFromRequest(request, id, deps.jobSettings, scope, now), now),
        });
        continue;
      }
      const fingerprint = fingerprintOf(request);
      // Derived from the key: even a crash between add and confirm cannot make a second job.
      const id = notificationIdFor(scope, idempotencyKey);
      const claim = await store.claim(scope, idempotencyKey, fingerprint, id);
      const job = stamped(jobFromRequest(request, id, deps.jobSettings, scope, now), now);
      if (claim.kind === "new") {
        // The key's record may have expired (24 h) while its job is still kept (a failed one, 7
        // days): BullMQ would ignore an add under the same id, and a 202 would queue nothing.
        const earlier = claim.jobExists ? await deps.queue.getJob(id) : undefined;
        if (earlier && !sameData(earlier.data, job.data)) {
          await store.release(scope, idempotencyKey);
          outcomes[at] = { error: keyUsedForAnotherBody() };
          continue;
        }
        if (earlier) {
          confirmUnawaited(scope, idempotencyKey, fingerprint, id);
          outcomes[at] = { id, replayed: true };
          continue;
        }
        fresh.push({ at, job, key: idempotencyKey, fingerprint });
      } else if (claim.kind === "replay") {
        outcomes[at] = { id: claim.id, replayed: true };
      } else if (claim.kind === "mismatch") {
        outcomes[at] = { error: keyUsedForAnotherBody() };
      } else {
        outcomes[at] = {
          error: new ApiError(
            "CONFLICT",
            "A request with this Idempotency-Key is still being accepted; retry shortly",
            { "Retry-After": "1" },
          ),
        };
      }
    }
    const releaseAll = (keys: Array<string | undefined>) =>
      Promise.all(keys.flatMap((key) => (key ? [store.release(scope, key).catch(() => {})] : [])));
    let refusals: Array<ApiError | undefined>;
    try {
      refusals = await Promise.all(
        fresh.map(({ job, key }) => accept(job, scope, { requestId, idempotencyKey: key, now })),
      );
    } catch (err) {
      await releaseAll(fresh.map(({ key }) => key));
      throw err;
    }
    const added = fresh.filter((_, i) => refusals[i] === undefined);
    await releaseAll(fresh.filter((_, i) => refusals[i] !== undefined).map(({ key }) => key));
    fresh.forEach(({ at, job }, i) => {
      const error = refusals[i];
      outcomes[at] = error ? { error } : { id: String(job.opts.jobId), replayed: false };
    });
    const jobs = added.map(({ job }) => job);
    try {
      await addAll(jobs);
    } catch (err) {
      await releaseAll(added.map(({ key }) => key));
      await withdrawAll(jobs, scope, now);
      throw err;
    }
    // The jobs are queued: the answer need not wait for the confirms, a round trip each caller
    // would feel (Upstash is a network away).
    for (const { job, key, fingerprint } of added) {
      if (key && fingerprint) confirmUnawaited(scope, key, fingerprint, String(job.opts.jobId));
    }
    return outcomes;
  };
}

/** The job created at `now`, the instant its record and index entries carry. */
function stamped(job: NotificationJob, now: number): NotificationJob {
  return { ...job, opts: { ...job.opts, timestamp: now } };
}

function keyUsedForAnotherBody(): ApiError {
  return new ApiError(
    "UNPROCESSABLE_ENTITY",
    "This Idempotency-Key was already used with a different request body",
  );
}

/** Two jobs' data are the same notification (JSON of the same validated fields in one order). */
function sameData(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

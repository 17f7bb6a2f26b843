import { randomUUID } from "node:crypto";
import type { NotificationRequest } from "../contract/notification-job.js";
import { inSpan } from "../lib/tracing.js";
import type { GatewayDeps } from "./app-types.js";
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

  return async function enqueue(scope: string, items: EnqueueItem[]): Promise<EnqueueOutcome[]> {
    const outcomes: EnqueueOutcome[] = new Array(items.length);
    const jobs: NotificationJob[] = [];
    const claimed: Array<{ key: string; fingerprint: string; id: string }> = [];
    for (const [index, { request, idempotencyKey }] of items.entries()) {
      if (idempotencyKey === undefined) {
        // A fill is its order's fill id: posted again, BullMQ ignores the add under the same id
        // while the first job is kept, and the first id is answered.
        const id = request.fill
          ? notificationIdFor(scope, `fill\n${request.order}\n${request.fill.id}`)
          : randomUUID();
        jobs.push(jobFromRequest(request, id, deps.jobSettings, scope));
        outcomes[index] = { id, replayed: false };
        continue;
      }
      const fingerprint = fingerprintOf(request);
      // Derived from the key: even a crash between add and confirm cannot make a second job.
      const id = notificationIdFor(scope, idempotencyKey);
      const claim = await store.claim(scope, idempotencyKey, fingerprint, id);
      const job = jobFromRequest(request, id, deps.jobSettings, scope);
      if (claim.kind === "new") {
        // The key's record may have expired (24 h) while its job is still kept (a failed one, 7
        // days): BullMQ would ignore an add under the same id, and a 202 would queue nothing.
        const earlier = claim.jobExists ? await deps.queue.getJob(id) : undefined;
        if (earlier && !sameData(earlier.data, job.data)) {
          await store.release(scope, idempotencyKey);
          outcomes[index] = { error: keyUsedForAnotherBody() };
          continue;
        }
        if (earlier) {
          confirmUnawaited(scope, idempotencyKey, fingerprint, id);
          outcomes[index] = { id, replayed: true };
          continue;
        }
        jobs.push(job);
        claimed.push({ key: idempotencyKey, fingerprint, id });
        outcomes[index] = { id, replayed: false };
      } else if (claim.kind === "replay") {
        outcomes[index] = { id: claim.id, replayed: true };
      } else if (claim.kind === "mismatch") {
        outcomes[index] = { error: keyUsedForAnotherBody() };
      } else {
        outcomes[index] = {
          error: new ApiError(
            "CONFLICT",
            "A request with this Idempotency-Key is still being accepted; retry shortly",
            { "Retry-After": "1" },
          ),
        };
      }
    }
    try {
      await addAll(jobs);
    } catch (err) {
      await Promise.all(claimed.map(({ key }) => store.release(scope, key).catch(() => {})));
      throw err;
    }
    // The jobs are queued: the answer need not wait for the confirms, a round trip each caller
    // would feel (Upstash is a network away).
    for (const { key, fingerprint, id } of claimed) confirmUnawaited(scope, key, fingerprint, id);
    return outcomes;
  };
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

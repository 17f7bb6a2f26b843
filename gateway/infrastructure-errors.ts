import { ApiError } from "./errors.js";

/**
 * The one place that turns infrastructure failures into HTTP, for every route: a route calls
 * BullMQ and Redis and lets whatever they throw reach the error handler, which asks here.
 *
 * - Redis unreachable, paused, read-only, out of memory or still loading: 503 with Retry-After.
 *   The gateway's connection never queues commands offline and times each one out after a
 *   second, so an outage surfaces here at once instead of hanging the request.
 * - A BullMQ state race (the job moved on between our read and our write: a worker locked it,
 *   another request retried or removed it): 409, the caller reads the notification again.
 */
export function infrastructureError(err: unknown): ApiError | undefined {
  if (!(err instanceof Error)) return undefined;
  if (isRedisUnavailable(err)) return queueUnavailable();
  if (isBullmqStateRace(err)) {
    return new ApiError(
      "CONFLICT",
      "The notification changed state while this request ran; read it again",
    );
  }
  return undefined;
}

/** The 503 every route answers when the queue cannot be reached. */
export function queueUnavailable(): ApiError {
  return new ApiError("SERVICE_UNAVAILABLE", "The notification queue is unavailable; retry later", {
    "Retry-After": "1",
  });
}

/** ioredis' own errors and Redis's refusals that mean "not now", not "never". */
const REDIS_UNAVAILABLE =
  /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|Reached the max retries|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|^READONLY|^OOM|^LOADING|^CLUSTERDOWN|^TRYAGAIN|^MASTERDOWN|^BUSY/;

function isRedisUnavailable(err: Error): boolean {
  return (
    err.name === "MaxRetriesPerRequestError" ||
    REDIS_UNAVAILABLE.test(err.message) ||
    REDIS_UNAVAILABLE.test((err as { code?: unknown }).code?.toString() ?? "")
  );
}

/**
 * BullMQ's script results for a job that is not where the caller expected it (its ErrorCode:
 * -1 missing, -2 lock missing, -3 not in the state, -6 lock mismatch), and `Job.remove`'s refusal
 * of a job a worker holds.
 */
const BULLMQ_RACE_CODES = new Set([-1, -2, -3, -6]);

function isBullmqStateRace(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    (typeof code === "number" && BULLMQ_RACE_CODES.has(code)) ||
    /could not be removed because it is locked/.test(err.message)
  );
}

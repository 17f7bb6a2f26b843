import type { Job } from "bullmq";
import type { GatewayDeps } from "./app-types.js";
import { ApiError } from "./errors.js";
import { requireRedis } from "./require-redis.js";

/**
 * The job of a notification and its BullMQ state, for the routes that read or act on one:
 * 503 while Redis is unreachable, 404 for an unknown id (or a job already removed).
 */
export async function findNotification(
  deps: GatewayDeps,
  id: string,
): Promise<{ job: Job; state: string }> {
  requireRedis(deps.redis);
  const job = await deps.queue.getJob(id);
  const state = job ? await job.getState() : "unknown";
  if (!job || state === "unknown") throw new ApiError("NOT_FOUND", `No notification with id ${id}`);
  return { job, state };
}

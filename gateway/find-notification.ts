import type { Job } from "bullmq";
import type { Context } from "hono";
import type { GatewayDeps, GatewayEnv } from "./app-types.js";
import { ApiError } from "./errors.js";
import { visibleTo } from "./job-from-request.js";

/**
 * The job of a notification and its BullMQ state, for the routes that read or act on one:
 * 404 for an unknown id (or a job already removed); Redis failures go to the error handler.
 */
export async function findNotification(
  deps: GatewayDeps,
  id: string,
  /** The caller's key: a key sees only its own notifications, an admin key all of them. */
  viewer: { id: string; admin: boolean },
): Promise<{ job: Job; state: string }> {
  // The state first, the job's data second: a job that finishes in between is then reported with
  // its newer data, never as "completed" beside the channels it had before it ran.
  const state = await deps.queue.getJobState(id);
  const job = state === "unknown" ? undefined : await deps.queue.getJob(id);
  // Another key's notification is answered like an unknown one: its existence is not shown.
  if (!job || !visibleTo(job, viewer)) {
    throw new ApiError("NOT_FOUND", `No notification with id ${id}`);
  }
  return { job, state };
}

/** The caller as `findNotification` and the list judge visibility. */
export function viewerOf(c: Context<GatewayEnv>): { id: string; admin: boolean } {
  return { id: c.get("apiKeyId"), admin: c.get("apiKeyAdmin") };
}

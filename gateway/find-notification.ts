import type { Job } from "bullmq";
import type { GatewayDeps } from "./app-types.js";
import { ApiError } from "./errors.js";

/**
 * The job of a notification and its BullMQ state, for the routes that read or act on one:
 * 404 for an unknown id (or a job already removed); Redis failures go to the error handler.
 */
export async function findNotification(
  deps: GatewayDeps,
  id: string,
): Promise<{ job: Job; state: string }> {
  // The state first, the job's data second: a job that finishes in between is then reported with
  // its newer data, never as "completed" beside the channels it had before it ran.
  const state = await deps.queue.getJobState(id);
  const job = state === "unknown" ? undefined : await deps.queue.getJob(id);
  if (!job) throw new ApiError("NOT_FOUND", `No notification with id ${id}`);
  return { job, state };
}

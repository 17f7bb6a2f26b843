/**
 * A fill must agree with its order's first fill on asset, side and currency (docs/digests.md):
 * the worker records the first fill's terms per submitting key and order, and refuses a
 * contradicting fill a direct producer adds; through the API it is refused before it is queued.
 */
import { digestTenantOf, FILL_TERMS, fillContradiction, fillOrderKey } from "../contract/digest.js";
import type { NotificationRequest } from "../contract/notification-job.js";
import type { GatewayDeps } from "./app-types.js";
import { ApiError } from "./errors.js";

/**
 * Throws a 409 when `request` is a fill whose terms contradict its order's first fill, as the
 * worker recorded it (one HMGET). An order no digest has seen yet contradicts nothing.
 */
export async function refuseContradictingFill(
  deps: Pick<GatewayDeps, "redis" | "queue">,
  apiKeyId: string,
  request: NotificationRequest,
): Promise<void> {
  if (!request.fill) return;
  const key = fillOrderKey(deps.queue.qualifiedName, digestTenantOf(apiKeyId), request.order);
  const first = await deps.redis.hmget(key, ...FILL_TERMS);
  const contradiction = fillContradiction(request.fill.id, first, request);
  if (contradiction) throw new ApiError("CONFLICT", contradiction);
}

import type { Context } from "hono";
import type { WebhookAdapter, WebhookRequest } from "../../channels/webhook-adapter.js";
import type { GatewayApp, GatewayEnv } from "../app-types.js";
import { bodySizeLimit } from "../body-size-limit.js";
import { ApiError } from "../errors.js";
import {
  applyRecipientReport,
  applyStatusReport,
  type WebhookServices,
} from "../webhook-reports.js";

/** The request as the adapter reads it: the raw body, the headers, the path and query. */
async function webhookRequest(c: Context<GatewayEnv>): Promise<WebhookRequest> {
  return {
    path: c.req.path,
    search: new URL(c.req.url).search,
    body: await c.req.text(),
    header: (name) => c.req.header(name),
  };
}

/**
 * Remembers a request the provider identifies: its key the first time (deleted again when the
 * request cannot be applied, so the provider's retry is), false for a replay.
 */
async function firstTime(
  adapter: WebhookAdapter,
  replay: { id: string; rememberSeconds: number },
  services: WebhookServices,
): Promise<string | false> {
  const key = `${services.keyPrefix}:webhook-seen:${adapter.provider}:${replay.id}`;
  const fresh = await services.redis.set(key, "1", "EX", replay.rememberSeconds, "NX");
  return fresh !== null && key;
}

/**
 * `POST` on each of a provider's webhook paths (channels/webhooks.ts lists the providers). No
 * API key: the provider's signature authenticates each request, checked by its adapter; a
 * refused request is a 401 and changes nothing. A request the provider identifies is applied
 * once: a replay is acknowledged and ignored. What the adapter reads from it is applied through
 * delivery/delivery-updates.ts (webhook-reports.ts).
 */
export function registerProviderWebhook(
  app: GatewayApp,
  adapter: WebhookAdapter,
  services: WebhookServices,
): void {
  const { metrics } = services;
  const acknowledge = (c: Context<GatewayEnv>, duplicate = false) =>
    adapter.reply
      ? c.body(adapter.reply.body, 200, { "content-type": adapter.reply.contentType })
      : c.json(duplicate ? { received: true, duplicate: true } : { received: true }, 200);

  for (const path of adapter.paths) {
    app.post(path, bodySizeLimit(adapter.maxBodyBytes), async (c) => {
      const verdict = await adapter.verifyWebhook(await webhookRequest(c));
      if (!verdict.ok) {
        metrics.recordWebhook(adapter.provider, "refused");
        if (verdict.warning) {
          const { fields, message } = verdict.warning;
          services.logger.warn({ requestId: c.get("requestId"), ...fields }, message);
        }
        throw new ApiError("UNAUTHORIZED", verdict.message);
      }
      const seenKey = verdict.replay && (await firstTime(adapter, verdict.replay, services));
      if (seenKey === false) {
        metrics.recordWebhook(adapter.provider, "duplicate");
        return acknowledge(c, true);
      }
      const report = adapter.parseWebhook(path, verdict.payload, Date.now());
      if (!report) {
        metrics.recordWebhook(adapter.provider, "ignored");
        return acknowledge(c);
      }
      try {
        const outcome =
          report.type === "status"
            ? await applyStatusReport(adapter, report, services, c.get("requestId"))
            : await applyRecipientReport(adapter, report, services);
        metrics.recordWebhook(adapter.provider, outcome);
      } catch (error) {
        // Not applied: the provider retries it under the same id, which must not count as seen.
        if (seenKey) await services.redis.del(seenKey).catch(() => {});
        throw error;
      }
      return acknowledge(c);
    });
  }
}

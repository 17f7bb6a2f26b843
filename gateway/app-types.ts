import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Queue } from "bullmq";
import type { MiddlewareHandler } from "hono";
import type { WebhookSettings } from "../channels/webhooks.js";
import type { NotificationJobSettings } from "../contract/notification-job.js";
import type { EventPublisher } from "../delivery/events/publisher.js";
import type { Logger } from "../lib/logger.js";
import type { RedisConnection } from "../lib/redis.js";
import type { MessageEnv } from "../rendering/message-env.js";

/** What the routes need from the outside world; `server.ts` builds it, tests build their own. */
export interface GatewayDeps {
  queue: Queue;
  /** The connection the queue uses; its state answers readiness without sending a command. */
  redis: RedisConnection;
  /** Accepted keys (API_KEYS); `admin:<key>` for an admin-scoped one. */
  apiKeys: readonly string[];
  /** Accepted keys given as SHA-256 hex digests (API_KEY_HASHES); `admin:<hex>` for admin scope. */
  apiKeyHashes?: readonly string[];
  /**
   * Requests per API key and minute (0: no limit), failed authentications per client and minute,
   * and scheduled notifications per key (MAX_SCHEDULED_PER_KEY; its default when unset).
   */
  limits?: {
    perKeyPerMinute: number;
    maxScheduledPerKey?: number;
    authFailuresPerMinute: number;
    clientIpHeader?: string;
    trustedProxyHops?: number;
  };
  jobSettings: NotificationJobSettings;
  /** Configuration problems found at start (for example Redis' eviction policy), shown by /readyz. */
  warnings?: string[];
  /** Bull Board's login; without it the dashboard is off. `readOnly`: look, never act. */
  admin?: { user: string; password: string; readOnly?: boolean };
  /** Catalogs, brand, default locale and zone the admin previews render with; the defaults when unset. */
  messages?: MessageEnv;
  /** How long queue counts read for /metrics are reused (lib/queue-metrics.ts); 0 when unset. */
  metricsCacheMs?: number;
  logger: Logger;
  /**
   * Events to the exchange's backend (EVENTS_WEBHOOK_URL): the provider webhooks publish through
   * it (a DeliveryEventSink), `POST /events/replay` replays from it. Unset: events are off.
   */
  events?: EventPublisher;
  /** The events' own queue, listed in the dashboard beside the notifications; set with `events`. */
  eventsQueue?: Queue;
  /** Tracing middleware (tracing.ts `requestTracing()`), first on every request; none when off. */
  requestTracing?: readonly MiddlewareHandler[];
  /**
   * The provider webhooks' settings (channels/webhooks.ts); each webhook is mounted only when its
   * secret is set.
   */
  webhooks?: WebhookSettings & {
    /** Requests per client address and minute (WEBHOOK_RATE_LIMIT_PER_MINUTE); 0: no limit. */
    perMinute?: number;
  };
  /** How long delivery status is kept (DELIVERY_STATUS_RETENTION_DAYS), in seconds; 30 days unset. */
  deliveryRetentionSeconds?: number;
}

/** Context variables every handler can read. */
export type GatewayEnv = {
  Variables: {
    requestId: string;
    /** Set by the API key check: the first 16 hex digits of the accepted key's SHA-256. */
    apiKeyId: string;
    /** Set by the API key check: an admin-scoped key sees every notification. */
    apiKeyAdmin: boolean;
    /** Set by the per-key limit: charges more notifications (a batch's items) to the key. */
    chargeApiLimit?: (points: number) => Promise<void>;
  };
};

/** The app type routes register themselves on. */
export type GatewayApp = OpenAPIHono<GatewayEnv>;

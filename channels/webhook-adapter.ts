import type { Channel } from "../contract/channels.js";
import type { DeliverySource } from "../contract/delivery-status.js";
import type { DeliveryTransition } from "../delivery/delivery-store.js";
import type { SuppressionReason } from "../delivery/suppressions.js";

/** A provider's webhook request as the gateway received it: nothing in it is trusted yet. */
export interface WebhookRequest {
  /** The path it was posted to: one of the adapter's `paths`. */
  path: string;
  /** The query string, `?…` or empty: a signature may cover the whole URL. */
  search: string;
  /** The raw body, exactly as the signature covers it. */
  body: string;
  /** A request header by name; undefined when absent. */
  header(name: string): string | undefined;
}

/** What a verification found: the verified payload, or why the request is refused (a 401). */
export type WebhookVerdict<Payload> =
  | {
      ok: true;
      payload: Payload;
      /**
       * The provider's id of this request, when it signs one: a repeat inside `rememberSeconds`
       * is acknowledged and ignored, so a captured request cannot be replayed.
       */
      replay?: { id: string; rememberSeconds: number };
    }
  | {
      ok: false;
      /** The 401's message. */
      message: string;
      /** A warning worth an operator's look (a signature that does not match); none for a header missing. */
      warning?: { fields: Record<string, unknown>; message: string };
    };

/**
 * A message of ours moved on: one transition of its channel's delivery status
 * (contract/delivery-status.ts), or a timeline entry when `transition.status` is unset.
 */
export interface StatusReport {
  type: "status";
  /** The provider's id of the message, which the worker indexed when it sent it. */
  providerId: string;
  transition: DeliveryTransition;
  /** Recipients who must not be sent to again, applied only for a message this deployment sent. */
  suppress?: { recipients: string[]; reason: SuppressionReason; code?: string };
  /** The bounce's type, for the bounce counter. */
  bounceType?: string;
  /** True for a spam complaint, for the complaint counter. */
  complaint?: boolean;
}

/** A recipient's own message: `stop` suppresses them on this channel, `start` lifts it. */
export interface RecipientReport {
  type: "stop" | "start";
  recipient: string;
  /** The provider's id of the incoming message: each one acts once, however late it comes back. */
  messageId: string;
  /** The suppression's code: the keyword, or how the provider named it. */
  code: string;
}

/** What one verified webhook request reports; undefined from `parseWebhook`: nothing to do. */
export type WebhookReport = StatusReport | RecipientReport;

/**
 * Everything the gateway knows about one provider's webhooks: where they arrive, how their
 * signature is checked and what their events mean. The gateway's route knows none of it: it
 * rate-limits, reads the body, asks the adapter, and applies the report. An adapter loads its
 * provider's SDK on the first request that needs it, never at the gateway's start, and fails
 * closed: it is built only with its signing secret.
 */
export interface WebhookAdapter<Payload = unknown> {
  /** The provider, as delivery sources, metrics and suppression entries name it. */
  readonly provider: DeliverySource;
  readonly channel: Channel;
  /** The paths the provider posts to. */
  readonly paths: readonly string[];
  /** The largest body read; a larger one is a 413. */
  readonly maxBodyBytes: number;
  /** The body of every acknowledgement, when the provider expects one; else JSON. */
  readonly reply?: { body: string; contentType: string };
  /**
   * Checks the request's signature. Throws when the check cannot run (the SDK fails to load):
   * the gateway's error, which the provider retries, never a refusal.
   */
  verifyWebhook(request: WebhookRequest): Promise<WebhookVerdict<Payload>>;
  /** Reads a verified payload posted to `path`; undefined for an event that says nothing here. */
  parseWebhook(path: string, payload: Payload, receivedAt: number): WebhookReport | undefined;
}

/** The records the delivery store reads and writes (delivery-store.ts). */
import type { Channel } from "../contract/channels.js";
import type { DeliveryReport } from "../contract/delivery-report.js";
import type {
  ChannelStatus,
  DeliverySource,
  DeliveryState,
  DeliveryTimelineEntry,
} from "../contract/delivery-status.js";
import type { SuppressionReason } from "./suppressions.js";

/** One event for a channel, as the worker or a webhook reports it. */
export interface DeliveryTransition {
  channel: Channel;
  /** The status it means; none for an event that only goes in the timeline (a delay). */
  status?: DeliveryState;
  /** When it happened (ms). */
  at: number;
  source: DeliverySource;
  /** The provider's own name for it. */
  event: string;
  /** Identifies the event: the same key twice is recorded once. */
  key: string;
  code?: string;
  reason?: string;
  providerId?: string;
  /**
   * Recipients a provider's event suppresses (a Permanent bounce, a complaint). Kept with an
   * early event, which waits for the worker's record: applied once the message is known ours.
   */
  suppress?: { recipients: string[]; reason: SuppressionReason; code?: string };
}

/** What applying an event did: moved the status, only added to the timeline, or nothing. */
export type ApplyOutcome = "changed" | "recorded" | "duplicate";

export interface ApplyResult {
  outcome: ApplyOutcome | "pending";
  /** Unknown while pending (the worker has not recorded the message yet). */
  notificationId?: string;
  /** The status before, when it changed. */
  previous?: DeliveryState;
}

/** A notification's record, as `GET /notifications/{id}` reads it. */
export interface DeliveryRecord {
  notificationId: string;
  submittedBy?: string;
  createdAt?: number;
  attemptsMade?: number;
  /** The worker's delivery report after its last try (unparsed JSON). */
  report?: unknown;
  /** `cancelled` when a key cancelled it before it was sent (`cancelledAt`, `cancelledBy`). */
  outcome?: "completed" | "failed" | "cancelled";
  cancelledAt?: number;
  /** The id of the API key that cancelled it. */
  cancelledBy?: string;
  finishedAt?: number;
  failedReason?: string;
  channels: Partial<Record<Channel, ChannelStatus>>;
  timeline: DeliveryTimelineEntry[];
}

/** What the worker records after a try. */
export interface WorkerRecord {
  notificationId: string;
  submittedBy?: string;
  /** The job's data, as the worker read it: a direct producer's job is indexed from it. */
  payload?: Record<string, unknown>;
  createdAt: number;
  attemptsMade: number;
  report: DeliveryReport;
  /** Set when the notification finished. */
  outcome?: { status: "completed" | "failed"; finishedAt: number; failedReason?: string };
  transitions: DeliveryTransition[];
  /** Provider message ids to index (and whose early webhook events to apply now). */
  providerIds: Array<{ provider: string; providerId: string }>;
}

/** A webhook event applied when the worker recorded its message. */
export interface DrainedEvent {
  transition: DeliveryTransition;
  outcome: ApplyOutcome;
  previous?: DeliveryState;
}

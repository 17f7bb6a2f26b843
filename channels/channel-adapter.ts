import type { Channel } from "../contract/channels.js";
import type { ChannelDelivery } from "../contract/delivery-report.js";
import type { RenderedNotification } from "../rendering/rendered.js";
import type { ChannelError } from "./channel-error.js";

/** One send of one channel of one notification, as the processor hands it to an adapter. */
export interface SendRequest {
  /**
   * Unique per deployment and notification, the same on every try: the adapter derives its
   * provider idempotency key from it.
   */
  notificationKey: string;
  /** The notification's job id, for logs and the provider-id index. */
  notificationId: string;
  /** The channel's recipient (an email address, an E.164 number). */
  recipient: string;
  /** The notification rendered for every channel; the adapter takes its part. */
  content: RenderedNotification;
  /** What earlier tries recorded for this channel (calls made, a call in flight). */
  previous: ChannelDelivery;
  /**
   * Records that the provider's message `providerId` belongs to this notification. Answers false
   * when another notification holds it already: a look-alike that is not ours to report.
   */
  claim(providerId: string): Promise<boolean>;
  /**
   * Which notifications are sending this same text to this same recipient right now, shared by
   * every replica: a look-up cannot tell their messages from ours while they are in flight.
   */
  lookAlikes(text: string): LookAlikes;
}

/** One email, SMS… of a batch, as kept in Redis until the provider's idempotency window ends. */
export interface BatchItem {
  recipient: string;
  content: RenderedNotification;
}

/** The notifications in flight with one text to one recipient (see `SendRequest.lookAlikes`). */
export interface LookAlikes {
  /** Marks this notification as sending; kept until `end`, or until it lapses after a crash. */
  begin(): Promise<void>;
  end(): Promise<void>;
  /** The others in flight. */
  others(): Promise<string[]>;
}

/** What a successful send returns. */
export interface SendResult {
  /** The provider's id for the message. */
  providerId: string;
  /** True when an earlier try's message was found at the provider and not sent again. */
  recovered?: boolean;
}

/**
 * Everything the worker knows about one channel through one provider: how it sends, how it keeps
 * a retry from sending twice, and how it classifies the provider's errors (every failure leaves
 * `send` as a ChannelError). The processor knows none of this; it loops over the registry.
 */
export interface ChannelAdapter {
  readonly channel: Channel;
  /** `resend`, `twilio`, `dev-outbox`: the provider whose limits and waits apply. */
  readonly provider: string;
  /** The recipient as logs show it: enough to tell recipients apart, not to contact them. */
  maskRecipient(recipient: string): string;
  /** Sends, or finds an earlier try's message; throws ChannelError. */
  send(request: SendRequest): Promise<SendResult>;
  /**
   * For a provider with a batch endpoint: sends the items in one request under `batchKey` (its
   * idempotency key) and answers each item's result or error, in order. A request-level failure
   * is thrown as one ChannelError for all.
   */
  sendBatch?(items: BatchItem[], batchKey: string): Promise<Array<SendResult | ChannelError>>;
}

/**
 * The channel registry's shared half: which channels a notification can go out on and which
 * payload field names each one's recipient. The worker's adapters (worker/channels/) and the
 * gateway's reports both go by this list; adding a channel starts here.
 */
export const CHANNEL_RECIPIENT_FIELDS = {
  email: "to",
  sms: "phone",
} as const;

/** A delivery channel of a notification. */
export type Channel = keyof typeof CHANNEL_RECIPIENT_FIELDS;

/** Every channel, in the order reports list them. */
export const CHANNELS = Object.keys(CHANNEL_RECIPIENT_FIELDS) as Channel[];

/** The recipient of `channel` in a payload, or undefined when the producer gave none. */
export function recipientOf(
  payload: Partial<Record<(typeof CHANNEL_RECIPIENT_FIELDS)[Channel], string>>,
  channel: Channel,
): string | undefined {
  return payload[CHANNEL_RECIPIENT_FIELDS[channel]];
}

import { z } from "zod";
import { maskEmail, maskPhone } from "../lib/mask.js";

/** E.164: a plus, a country code that does not start with 0, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{6,14}$/;

/** The payload's recipient fields, one per channel; a notification goes to each one given. */
export const recipientFields = {
  to: z.email().max(254).optional().describe("Recipient email address."),
  phone: z
    .string()
    .regex(E164, "must be an E.164 phone number such as +12025550143")
    .optional()
    .describe("Recipient phone number in E.164 form; with it an SMS is sent too."),
};

/**
 * The channel registry's shared half: which channels a notification can go out on and which
 * payload field names each one's recipient. The adapters (channels/) and the
 * gateway's reports both go by this list; adding a channel starts here.
 */
export const CHANNEL_RECIPIENT_FIELDS = {
  email: "to",
  sms: "phone",
} as const;

/** How each channel's recipients are kept (the suppression list's form) and shown in logs. */
const RECIPIENT_FORMS = {
  // Email addresses are matched without regard to case; numbers are E.164 already.
  email: { normalize: (recipient: string) => recipient.trim().toLowerCase(), mask: maskEmail },
  sms: { normalize: (recipient: string) => recipient.trim(), mask: maskPhone },
} as const satisfies Record<keyof typeof CHANNEL_RECIPIENT_FIELDS, unknown>;

/** The form a recipient is kept in: email addresses lower-cased, numbers as given (E.164). */
export function normalizeRecipient(channel: Channel, recipient: string): string {
  return RECIPIENT_FORMS[channel].normalize(recipient);
}

/** A recipient as logs show it: enough to tell recipients apart, not to contact them. */
export function maskRecipient(channel: Channel, recipient: string): string {
  return RECIPIENT_FORMS[channel].mask(recipient);
}

/** A delivery channel of a notification. */
export type Channel = keyof typeof CHANNEL_RECIPIENT_FIELDS;

/** Every channel, in the order reports list them. */
export const CHANNELS = Object.keys(CHANNEL_RECIPIENT_FIELDS) as Channel[];

/** True when a payload names at least one channel's recipient. */
export function hasRecipient(payload: object): boolean {
  return CHANNELS.some((channel) => recipientOf(payload, channel) !== undefined);
}

/** The recipient of `channel` in a payload, or undefined when the producer gave none. */
export function recipientOf(payload: object, channel: Channel): string | undefined {
  const value = (payload as Record<string, unknown>)[CHANNEL_RECIPIENT_FIELDS[channel]];
  return typeof value === "string" ? value : undefined;
}

import { NOTIFICATION_TYPES } from "../contract/notification-job.js";

/** The three messages every kind of notification has in each catalog: `<kind>.subject` … */
export const KIND_MESSAGES = ["subject", "headline", "sms"] as const;

/** Messages shared by every kind: fact labels, the security line, the footer. */
export const SHARED_KEYS = [
  "label.asset",
  "label.quantity",
  "label.amount",
  "label.value",
  "label.price",
  "label.fee",
  "label.executedAt",
  "label.side",
  "label.order",
  "label.reference",
  "label.fills",
  "label.averagePrice",
  "side.buy",
  "side.sell",
  "time.withUtc",
  "security.notYou",
  "security.contact",
  "footer.reason",
  "footer.help",
] as const;

/**
 * Kinds of message with their own subject, headline and SMS. A new kind (a digest, say) adds
 * its name here and its three keys to every catalog; validation then requires them.
 */
export const MESSAGE_KINDS: readonly string[] = [...NOTIFICATION_TYPES, "trade.digest"];

/** Every key a complete catalog has. */
export function catalogKeys(kinds: readonly string[] = MESSAGE_KINDS): string[] {
  return [
    ...kinds.flatMap((kind) => KIND_MESSAGES.map((message) => `${kind}.${message}`)),
    ...SHARED_KEYS,
  ];
}

/**
 * A value for every argument a message may use. Validation formats each message with these:
 * a message naming any other argument fails at start, not when a customer's message is sent.
 */
export const SAMPLE_ARGUMENTS = {
  brand: "Exchange",
  asset: "BTC",
  quantity: "0.5",
  amount: "$1.00",
  side: "buy",
  order: "order-1",
  price: "$1.00",
  fills: "40",
  local: "1 Jan 2026, 10:00",
  utc: "09:00 UTC",
} as const;

/** The arguments a message is formatted with (names from SAMPLE_ARGUMENTS). */
export type MessageArguments = Partial<Record<keyof typeof SAMPLE_ARGUMENTS, string>>;

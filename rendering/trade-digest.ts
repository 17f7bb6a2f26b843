import type { MessageKind } from "./message-kind.js";

/**
 * `trade.digest`: one message for an order's fills (docs/digests.md). Not a notification type
 * of its own: the worker renders it from a digest's totals, with `quantity` and `amount` the
 * totals and `price` the volume-weighted average.
 */
export const tradeDigest: MessageKind = {
  facts: (values) => [
    ["label.asset", values.asset],
    ["label.fills", values.fills],
    ["label.quantity", values.quantity],
    ["label.amount", values.amount],
    ["label.averagePrice", values.price],
    ["label.side", values.side],
    ["label.order", values.order],
  ],
  securityNotice: false,
};

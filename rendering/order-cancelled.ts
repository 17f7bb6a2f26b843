import type { MessageKind } from "./message-kind.js";

/** `order.cancelled`: an open order was cancelled before it filled. */
export const orderCancelled: MessageKind = {
  facts: (values) => [
    ["label.asset", values.asset],
    ["label.quantity", values.quantity],
    ["label.price", values.price],
    ["label.amount", values.amount],
    ["label.side", values.side],
    ["label.executedAt", values.executedAt],
    ["label.order", values.order],
  ],
  securityNotice: false,
};

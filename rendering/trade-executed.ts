import type { MessageKind } from "./message-kind.js";

/** `trade.executed`: an order was filled (the payload existing backends send). */
export const tradeExecuted: MessageKind = {
  facts: (values) => [
    ["label.asset", values.asset],
    ["label.quantity", values.quantity],
    ["label.price", values.price],
    ["label.amount", values.amount],
    ["label.fee", values.fee],
    ["label.side", values.side],
    ["label.executedAt", values.executedAt],
    ["label.order", values.order],
  ],
  securityNotice: false,
};

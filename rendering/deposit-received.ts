import type { MessageKind } from "./message-kind.js";

/** `deposit.received`: funds arrived in the user's account; `order` is the deposit reference. */
export const depositReceived: MessageKind = {
  facts: (values) => [
    ["label.asset", values.asset],
    ["label.quantity", values.quantity],
    ["label.value", values.amount],
    ["label.fee", values.fee],
    ["label.executedAt", values.executedAt],
    ["label.reference", values.order],
  ],
  securityNotice: false,
};

import type { MessageKind } from "./message-kind.js";

/**
 * `withdrawal.sent`: a withdrawal left the exchange; `order` is the withdrawal reference. Money
 * leaving an account is what a thief does first, so it carries the security line.
 */
export const withdrawalSent: MessageKind = {
  facts: (values) => [
    ["label.asset", values.asset],
    ["label.quantity", values.quantity],
    ["label.value", values.amount],
    ["label.fee", values.fee],
    ["label.executedAt", values.executedAt],
    ["label.reference", values.order],
  ],
  securityNotice: true,
};

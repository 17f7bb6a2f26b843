import type { NotificationPayload } from "../../contract/notification-job.js";
import { formatMoney, formatQuantity, singleLine } from "./format.js";
import { renderMessage } from "./layout.js";
import type { RenderedNotification } from "./rendered.js";

/** `withdrawal.sent`: a withdrawal left the exchange; `order` is the withdrawal reference. */
export function renderWithdrawalSent(payload: NotificationPayload): RenderedNotification {
  const quantity = formatQuantity(payload.quantity);
  const money = formatMoney(payload.amount, payload.currency);
  return renderMessage({
    subject: `Withdrawal sent: ${quantity} ${payload.asset}`,
    headline: `Your withdrawal of ${quantity} ${payload.asset} (${money}) was sent`,
    facts: [
      ["Asset", payload.asset],
      ["Quantity", quantity],
      ["Value", money],
      ["Reference", payload.order],
    ],
    sms: `Withdrawal sent: ${quantity} ${payload.asset} (${money}). Ref ${singleLine(payload.order)}. Not you? Contact support now.`,
  });
}

import type { NotificationPayload } from "../../contract/notification-job.js";
import { formatMoney, formatQuantity, singleLine } from "./format.js";
import { renderMessage } from "./layout.js";
import type { RenderedNotification } from "./rendered.js";

/** `deposit.received`: funds arrived in the user's account; `order` is the deposit reference. */
export function renderDepositReceived(payload: NotificationPayload): RenderedNotification {
  const quantity = formatQuantity(payload.quantity);
  const money = formatMoney(payload.amount, payload.currency);
  return renderMessage({
    subject: `Deposit received: ${quantity} ${payload.asset}`,
    headline: `We received your deposit of ${quantity} ${payload.asset} (${money})`,
    facts: [
      ["Asset", payload.asset],
      ["Quantity", quantity],
      ["Value", money],
      ["Reference", payload.order],
    ],
    sms: `Deposit received: ${quantity} ${payload.asset} (${money}). Ref ${singleLine(payload.order)}`,
  });
}

import type { NotificationPayload } from "../../contract/notification-job.js";
import { formatMoney, formatQuantity, singleLine } from "./format.js";
import { renderMessage } from "./layout.js";
import type { RenderedNotification } from "./rendered.js";

/** `order.cancelled`: an open order was cancelled before it filled. */
export function renderOrderCancelled(payload: NotificationPayload): RenderedNotification {
  const quantity = formatQuantity(payload.quantity);
  const side = payload.side ? `${payload.side} ` : "";
  const headline = `Your ${side}order for ${quantity} ${payload.asset} was cancelled`;
  return renderMessage({
    subject: `Order cancelled: ${quantity} ${payload.asset}`,
    headline,
    facts: [
      ["Asset", payload.asset],
      ["Quantity", quantity],
      ["Amount", formatMoney(payload.amount, payload.currency)],
      ["Order", payload.order],
    ],
    sms: `${headline}. Order ${singleLine(payload.order)}`,
  });
}

import type { NotificationPayload } from "../../contract/notification-job.js";
import { formatMoney, formatQuantity, singleLine } from "./format.js";
import { renderMessage } from "./layout.js";
import type { RenderedNotification } from "./rendered.js";

/** `trade.executed`: an order was filled (the payload existing backends send). */
export function renderTradeExecuted(payload: NotificationPayload): RenderedNotification {
  const quantity = formatQuantity(payload.quantity);
  const money = formatMoney(payload.amount, payload.currency);
  const verb = payload.side === "buy" ? "bought" : payload.side === "sell" ? "sold" : "traded";
  const headline = `You ${verb} ${quantity} ${payload.asset}`;
  return renderMessage({
    subject: `Trade executed: ${headline}`,
    headline: `${headline} for ${money}`,
    facts: [
      ["Asset", payload.asset],
      ["Quantity", quantity],
      ["Amount", money],
      ...(payload.side ? [["Side", payload.side] as [string, string]] : []),
      ["Order", payload.order],
    ],
    sms: `${headline} for ${money}. Order ${singleLine(payload.order)}`,
  });
}

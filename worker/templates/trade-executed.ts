import { html } from "hono/html";
import type { NotificationPayload } from "../../contract/notification-job.js";
import { formatMoney, formatQuantity, singleLine } from "./format.js";
import type { RenderedNotification } from "./rendered.js";

/**
 * A filled trade. Every value from the request goes through hono's `html` tag, which
 * HTML-escapes interpolations; the subject and SMS are kept to one line.
 */
export function renderTradeExecuted(payload: NotificationPayload): RenderedNotification {
  const quantity = formatQuantity(payload.quantity);
  const money = formatMoney(payload.amount, payload.currency);
  const order = singleLine(payload.order);
  const verb = payload.side === "buy" ? "bought" : payload.side === "sell" ? "sold" : "traded";
  const headline = `You ${verb} ${quantity} ${payload.asset}`;

  const subject = singleLine(`Trade executed: ${headline}`);
  const text = [
    `${headline} for ${money}.`,
    "",
    `Asset: ${payload.asset}`,
    `Quantity: ${quantity}`,
    `Amount: ${money}`,
    ...(payload.side ? [`Side: ${payload.side}`] : []),
    `Order: ${order}`,
  ].join("\n");
  const body = html`<!doctype html>
<html>
  <body style="font-family: -apple-system, Segoe UI, Roboto, sans-serif; color: #111">
    <h1 style="font-size: 18px">${headline}</h1>
    <table cellpadding="4">
      <tr><td>Asset</td><td><strong>${payload.asset}</strong></td></tr>
      <tr><td>Quantity</td><td>${quantity}</td></tr>
      <tr><td>Amount</td><td>${money}</td></tr>
      ${payload.side ? html`<tr><td>Side</td><td>${payload.side}</td></tr>` : ""}
      <tr><td>Order</td><td><code>${order}</code></td></tr>
    </table>
  </body>
</html>`;
  const sms = singleLine(`${headline} for ${money}. Order ${order}`);
  return { subject, html: String(body), text, sms };
}

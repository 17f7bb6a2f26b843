import type { NotificationPayload } from "../../contract/notification-job.js";
import { formatMoney, formatQuantity, singleLine } from "./format.js";
import { renderMessage } from "./layout.js";
import type { RenderedNotification } from "./rendered.js";

/** A price keeps up to 8 decimals (a cheap token's price), a currency's own 2 at least. */
function formatPrice(price: string, currency: string): string {
  if (currency.length === 3) {
    try {
      return new Intl.NumberFormat("en-US", {
        style: "currency",
        currency,
        maximumFractionDigits: 8,
      }).format(price as Intl.StringNumericLiteral);
    } catch {
      // Not an ISO 4217 code Intl accepts: fall through to the plain form.
    }
  }
  return `${formatQuantity(price)} ${currency}`;
}

/**
 * The digest of an order's fills (docs/digests.md): `payload` carries the totals (`quantity`,
 * `amount`) and the volume-weighted average `price`; `count` is the number of fills.
 */
export function renderTradeDigest(
  payload: NotificationPayload,
  count: number,
): RenderedNotification {
  const quantity = formatQuantity(payload.quantity);
  const money = formatMoney(payload.amount, payload.currency);
  const average = formatPrice(payload.price ?? "0", payload.currency);
  const verb = payload.side === "buy" ? "bought" : payload.side === "sell" ? "sold" : "traded";
  const fills = count === 1 ? "1 fill" : `${count} fills`;
  const headline = `You ${verb} ${quantity} ${payload.asset} for ${money}`;
  return renderMessage({
    subject: `Order filled: you ${verb} ${quantity} ${payload.asset} in ${fills}`,
    headline: `${headline} in ${fills}`,
    facts: [
      ["Asset", payload.asset],
      ["Fills", String(count)],
      ["Total quantity", quantity],
      ["Total amount", money],
      ["Average price", average],
      ...(payload.side ? [["Side", payload.side] as [string, string]] : []),
      ["Order", payload.order],
    ],
    sms: `${headline} in ${fills}, average price ${average}. Order ${singleLine(payload.order)}`,
  });
}

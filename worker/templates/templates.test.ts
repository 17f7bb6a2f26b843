import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  NOTIFICATION_TYPES,
  type NotificationPayload,
  notificationPayloadSchema,
} from "../../contract/notification-job.js";
import { renderNotification } from "./index.js";

const BASE: NotificationPayload = notificationPayloadSchema.parse({
  to: "user@example.com",
  asset: "BTC",
  amount: 1000,
  quantity: 0.02,
  order: "ref-42",
  side: "sell",
});

/** The five HTML escapes, written independently of the code under test. */
function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

describe("templates", () => {
  it.each([
    [
      "trade.executed",
      "Trade executed: You sold 0.02 BTC",
      "You sold 0.02 BTC for $1,000.00. Order ref-42",
    ],
    [
      "order.cancelled",
      "Order cancelled: 0.02 BTC",
      "Your sell order for 0.02 BTC was cancelled. Order ref-42",
    ],
    [
      "deposit.received",
      "Deposit received: 0.02 BTC",
      "Deposit received: 0.02 BTC ($1,000.00). Ref ref-42",
    ],
    [
      "withdrawal.sent",
      "Withdrawal sent: 0.02 BTC",
      "Withdrawal sent: 0.02 BTC ($1,000.00). Ref ref-42. Not you? Contact support now.",
    ],
  ] as const)(
    "renders %s with its subject, SMS, and the reference in the email",
    (type, subject, sms) => {
      const rendered = renderNotification({ ...BASE, type });
      expect(rendered.subject).toBe(subject);
      expect(rendered.sms).toBe(sms);
      expect(rendered.text).toContain("ref-42");
      expect(rendered.html).toContain("<strong>ref-42</strong>");
    },
  );

  it("prints a currency Intl does not know as a code", () => {
    const rendered = renderNotification({ ...BASE, currency: "USDT" });
    expect(rendered.sms).toBe("You sold 0.02 BTC for 1,000 USDT. Order ref-42");
  });

  it("never lets a value into the HTML unescaped, nor a line break into the subject or SMS", () => {
    const hostile = fc.oneof(
      fc.string({ minLength: 1, maxLength: 128 }),
      fc.constantFrom(
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "a\r\nBcc: x@evil.test",
        "&amp;&lt;",
      ),
    );
    fc.assert(
      fc.property(fc.constantFrom(...NOTIFICATION_TYPES), hostile, (type, order) => {
        fc.pre(order.trim().length > 0);
        const rendered = renderNotification({ ...BASE, type, order });
        // The value appears in its cell exactly as an independent escaper writes it.
        expect(rendered.html).toContain(`<strong>${escapeHtml(order)}</strong>`);
        expect(rendered.html).not.toMatch(/<script|<img/i);
        expect(rendered.subject).not.toMatch(/[\r\n]/);
        expect(rendered.sms).not.toMatch(/[\r\n]/);
      }),
      { numRuns: 300 },
    );
  });
});

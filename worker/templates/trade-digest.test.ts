import { describe, expect, it } from "vitest";
import { notificationPayloadSchema } from "../../contract/notification-job.js";
import { renderTradeDigest } from "./trade-digest.js";

/** A digest's payload: the totals in `quantity` and `amount`, the average in `price`. */
function digest(overrides: Record<string, unknown> = {}) {
  return notificationPayloadSchema.parse({
    phone: "+12025550143",
    asset: "BTC",
    side: "sell",
    quantity: "1.5",
    amount: "60003.75",
    price: "40002.5",
    order: "ord-1",
    ...overrides,
  });
}

describe("renderTradeDigest", () => {
  it("reports the fills, totals and average price in the SMS, subject and email facts", () => {
    const rendered = renderTradeDigest(digest(), 12);
    expect(rendered.sms).toBe(
      "You sold 1.5 BTC for $60,003.75 in 12 fills, average price $40,002.50. Order ord-1",
    );
    expect(rendered.subject).toBe("Order filled: you sold 1.5 BTC in 12 fills");
    expect(rendered.text).toContain(
      "Fills: 12\nTotal quantity: 1.5\nTotal amount: $60,003.75\nAverage price: $40,002.50",
    );
  });

  it("keeps a small price's decimals and names a code Intl does not know", () => {
    const rendered = renderTradeDigest(
      digest({ currency: "USDT", price: "0.00001234", amount: "0.00001851", side: undefined }),
      1,
    );
    expect(rendered.sms).toBe(
      "You traded 1.5 BTC for 0.00001851 USDT in 1 fill, average price 0.00001234 USDT. Order ord-1",
    );
  });

  it("escapes the order id in the HTML", () => {
    const rendered = renderTradeDigest(digest({ order: "<b>x</b>" }), 2);
    expect(rendered.html).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(rendered.html).not.toContain("<b>x</b>");
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { notificationPayloadSchema } from "../contract/notification-job.js";
import { DEFAULT_MESSAGE_ENV } from "./message-env.js";
import { type NotificationRenderer, rendererFromEnv } from "./renderer.js";

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

let render: NotificationRenderer;
beforeAll(async () => {
  render = await rendererFromEnv(DEFAULT_MESSAGE_ENV);
});

describe("the digest of an order's fills", () => {
  it("reports the fills, totals and average price in the SMS, subject and email facts", () => {
    const rendered = render(digest(), { fills: 12 });
    expect(rendered.sms).toBe(
      "Exchange: You sold 1.5 BTC for $60,003.75 in 12 fills, avg price $40,002.50. Order ord-1",
    );
    expect(rendered.subject).toBe("Order filled: you sold 1.5 BTC in 12 fills");
    expect(rendered.text).toContain("Fills: 12");
    expect(rendered.text).toContain("Average price: $40,002.50");
  });

  it("says one fill, keeps a small price's decimals and names a code Intl does not know", () => {
    const rendered = render(
      digest({ currency: "USDT", price: "0.00001234", amount: "0.00001851", side: undefined }),
      { fills: 1 },
    );
    expect(rendered.sms).toBe(
      "Exchange: You traded 1.5 BTC for 0.00001851 USDT in 1 fill, avg price 0.00001234 USDT. Order ord-1",
    );
  });

  it("is written in the customer's language", () => {
    const rendered = render(digest({ locale: "fr-CA" }), { fills: 3 });
    expect(rendered.sms).toMatch(
      /^Exchange : vous avez vendu 1,5 BTC pour 60 003,75 \$ US en 3 fois, prix moyen 40 002,50 \$ US\. Ordre ord-1$/,
    );
  });

  it("escapes the order id in the HTML", () => {
    // The contract refuses such an id; the renderer escapes whatever it is given even so.
    const rendered = render({ ...digest(), order: "<b>x</b>" }, { fills: 2 });
    expect(rendered.html).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(rendered.html).not.toContain("<b>x</b>");
  });
});

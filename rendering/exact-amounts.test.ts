import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { notificationPayloadSchema } from "../contract/notification-job.js";
import { type NotificationRenderer, rendererFromEnv } from "./index.js";
import { SHIPPED_CATALOGS } from "./shipped-catalogs.js";

const BASE = notificationPayloadSchema.parse({
  to: "user@example.com",
  asset: "BTC",
  amount: 1,
  quantity: 1,
  order: "ord-1",
  currency: "USDT",
});

/** A decimal with up to 18 integer and 18 fraction digits, as an exchange's backend writes it. */
const decimalString = fc
  .tuple(
    fc.oneof(fc.constant("0"), fc.stringMatching(/^[1-9]\d{0,17}$/)),
    fc.stringMatching(/^\d{0,18}$/),
  )
  .map(([whole, fraction]) => (fraction ? `${whole}.${fraction}` : whole))
  .filter((value) => !/^0(\.0*)?$/.test(value));

/** The digits a decimal must show: the integer part and the fraction without trailing zeros. */
function significantDigits(value: string): string {
  const [whole = "", fraction = ""] = value.split(".");
  return whole + fraction.replace(/0+$/, "");
}

/** The quantity's line in the text part: `Quantity: …` in whatever language. */
function quantityLine(text: string): string {
  return text.split("\n")[3] ?? "";
}

let render: NotificationRenderer;
beforeAll(async () => {
  render = await rendererFromEnv();
});

describe("exact amounts", () => {
  it("prints any decimal with up to 18 fraction digits exactly in English", () => {
    fc.assert(
      fc.property(decimalString, (quantity) => {
        const { text } = render({ ...BASE, quantity });
        const [whole = "", fraction = ""] = quantity.split(".");
        const grouped = BigInt(whole).toLocaleString("en-US");
        const trimmed = fraction.replace(/0+$/, "");
        expect(quantityLine(text)).toBe(`Quantity: ${grouped}${trimmed ? `.${trimmed}` : ""}`);
      }),
      { numRuns: 500 },
    );
  });

  it("keeps every digit in every shipped locale, whatever its separators", () => {
    fc.assert(
      fc.property(
        decimalString,
        fc.constantFrom(...Object.keys(SHIPPED_CATALOGS)),
        (quantity, locale) => {
          const { text } = render({ ...BASE, quantity, locale });
          const line = quantityLine(text);
          const shown = line.slice(line.indexOf(":") + 1).replace(/\D/g, "");
          expect(shown).toBe(significantDigits(quantity));
        },
      ),
      { numRuns: 500 },
    );
  });
});

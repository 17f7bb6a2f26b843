import { beforeAll, describe, expect, it } from "vitest";
import { NOTIFICATION_TYPES, notificationPayloadSchema } from "../contract/notification-job.js";
import { brandOf } from "./brand.js";
import { loadCatalogs } from "./catalogs.js";
import { DEFAULT_MESSAGE_ENV } from "./message-env.js";
import { createRenderer, type NotificationRenderer } from "./renderer.js";
import { SHIPPED_CATALOGS } from "./shipped-catalogs.js";
import { smsSegments, smsText } from "./sms.js";

/**
 * The longest SMS a real exchange sends, by our reckoning: a brand at BRAND_NAME's 16-character
 * limit, a quantity at wei precision (5 integer and 18 fraction digits), a seven-figure value,
 * a UUID order id (36 characters), a 4-letter asset, and the longer `sell` wording. The contract
 * allows more (18 + 18 digits, 128-character ids): such a message is sent, in more segments.
 */
const WORST_CASE = notificationPayloadSchema.parse({
  to: "user@example.com",
  asset: "USDT",
  amount: "1234567.89",
  quantity: "12345.123456789012345678",
  order: "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c",
  side: "sell",
});

let render: NotificationRenderer;
beforeAll(async () => {
  render = await createRenderer({
    catalogs: loadCatalogs({ defaultLocale: "en" }),
    brand: { ...brandOf(DEFAULT_MESSAGE_ENV), name: "Northwind Crypto" },
    defaultTimeZone: "UTC",
  });
});

describe("SMS segments", () => {
  it.each([
    ["a".repeat(160), "GSM-7", 1],
    ["a".repeat(161), "GSM-7", 2],
    ["a".repeat(306), "GSM-7", 2],
    ["a".repeat(307), "GSM-7", 3],
    // The extension table's characters take two septets each.
    ["€".repeat(80), "GSM-7", 1],
    ["€".repeat(81), "GSM-7", 2],
    ["é".repeat(160), "GSM-7", 1],
    ["ó".repeat(70), "UCS-2", 1],
    ["ó".repeat(71), "UCS-2", 2],
    ["ó".repeat(134), "UCS-2", 2],
    ["ó".repeat(135), "UCS-2", 3],
  ] as const)("counts %# as %s in %i segment(s)", (text, encoding, segments) => {
    expect(smsSegments(text)).toEqual({ encoding, segments });
  });

  it("turns Intl's no-break spaces into plain ones, which keeps French numbers in GSM-7", () => {
    const french = new Intl.NumberFormat("fr").format(1234567.5);
    expect(smsSegments(french).encoding).toBe("UCS-2");
    expect(smsText(french)).toBe("1 234 567,5");
    expect(smsSegments(smsText(french)).encoding).toBe("GSM-7");
  });

  const cases = Object.keys(SHIPPED_CATALOGS).flatMap((locale) =>
    NOTIFICATION_TYPES.map((type) => [type, locale] as const),
  );
  it.each(cases)(
    "fits %s in %s into its budget: one segment in English, two elsewhere",
    (type, locale) => {
      const { sms } = render({ ...WORST_CASE, type, locale });
      const budget = locale === "en" ? 1 : 2;
      expect(smsSegments(sms).segments, sms).toBeLessThanOrEqual(budget);
    },
  );

  // A digest (docs/digests.md) adds the number of fills and the average price, and replaces up
  // to DIGEST_MAX_FILLS (100) messages: its budget is two segments in English, three where the
  // language needs UCS-2. Worst case: an average with 8 decimals (a cheap token's price).
  const DIGEST_WORST_CASE = { ...WORST_CASE, price: "100.00444455" };
  it.each(Object.keys(SHIPPED_CATALOGS))(
    "fits a digest of 100 fills in %s into its budget",
    (locale) => {
      const { sms } = render({ ...DIGEST_WORST_CASE, locale }, { fills: 100 });
      expect(smsSegments(sms).segments, sms).toBeLessThanOrEqual(locale === "en" ? 2 : 3);
    },
  );
});

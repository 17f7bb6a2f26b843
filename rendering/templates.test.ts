import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  NOTIFICATION_TYPES,
  type NotificationPayload,
  notificationPayloadSchema,
} from "../contract/notification-job.js";
import { type NotificationRenderer, rendererFromEnv } from "./index.js";
import { DEFAULT_MESSAGE_ENV } from "./message-env.js";

/** The seed payload existing producers send: JSON numbers, no locale, no time zone. */
const SEED = notificationPayloadSchema.parse({
  to: "user@example.com",
  asset: "BTC",
  amount: 1000,
  quantity: 0.02,
  order: "ref-42",
});
const BASE: NotificationPayload = { ...SEED, side: "sell" };

/** The five HTML escapes, written independently of the code under test. */
function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

let render: NotificationRenderer;
beforeAll(async () => {
  render = await rendererFromEnv();
});

describe("templates", () => {
  it("renders the seed payload {to, asset, amount, quantity, order} with the same facts as before", () => {
    const rendered = render(SEED);
    expect(rendered.subject).toBe("Trade executed: You traded 0.02 BTC");
    expect(rendered.sms).toBe("Exchange: You traded 0.02 BTC for $1,000.00. Order ref-42");
    expect(rendered.text.split("\n").slice(0, 6)).toEqual([
      "You traded 0.02 BTC for $1,000.00",
      "",
      "Asset: BTC",
      "Quantity: 0.02",
      "Amount: $1,000.00",
      "Order: ref-42",
    ]);
  });

  it.each([
    [
      "trade.executed",
      "Trade executed: You sold 0.02 BTC",
      "Exchange: You sold 0.02 BTC for $1,000.00. Order ref-42",
    ],
    [
      "order.cancelled",
      "Order cancelled: 0.02 BTC",
      "Exchange: Your sell order for 0.02 BTC was cancelled. Order ref-42",
    ],
    [
      "deposit.received",
      "Deposit received: 0.02 BTC",
      "Exchange: Deposit received: 0.02 BTC ($1,000.00). Ref ref-42",
    ],
    [
      "withdrawal.sent",
      "Withdrawal sent: 0.02 BTC",
      "Exchange: Withdrawal sent: 0.02 BTC ($1,000.00). Not you? Contact support now.",
    ],
  ] as const)(
    "renders %s with its subject, SMS, and the reference in the email",
    (type, subject, sms) => {
      const rendered = render({ ...BASE, type });
      expect(rendered.subject).toBe(subject);
      expect(rendered.sms).toBe(sms);
      expect(rendered.text).toContain("ref-42");
      expect(rendered.html).toContain("<strong>ref-42</strong>");
    },
  );

  it("prints a currency that is not ISO 4217 as a code after the number", () => {
    const rendered = render({ ...BASE, currency: "USDT" });
    expect(rendered.sms).toBe("Exchange: You sold 0.02 BTC for 1,000 USDT. Order ref-42");
  });

  it("prints a tiny quantity exactly instead of rounding it to zero", () => {
    const tiny = notificationPayloadSchema.parse({ ...SEED, quantity: 1e-9, side: "buy" });
    expect(render(tiny).sms).toBe(
      "Exchange: You bought 0.000000001 BTC for $1,000.00. Order ref-42",
    );
    const satoshi = render({ ...BASE, quantity: "0.00000001", amount: "0.000000000000000001" });
    expect(satoshi.text).toContain("Quantity: 0.00000001\n");
    expect(satoshi.text).toContain("Amount: $0.000000000000000001\n");
  });

  it("shows price, fee and the time in the customer's zone with UTC beside it", () => {
    const rendered = render({
      ...BASE,
      price: "50000",
      fee: "0.5",
      feeAsset: "USDT",
      executedAt: "2026-03-01T23:30:00Z",
      timeZone: "Asia/Tokyo",
    });
    expect(rendered.text).toContain("Price per BTC: $50,000.00\n");
    expect(rendered.text).toContain("Fee: 0.5 USDT\n");
    expect(rendered.text).toContain(
      "Time: Mar 2, 2026, 08:30:00 AM GMT+9 (Mar 1, 2026, 11:30:00 PM UTC)\n",
    );
  });

  it("prints ASCII digits for en-u-nu-arab: a locale is a language and a region, its extensions are dropped", () => {
    const trade = {
      ...BASE,
      price: "50000",
      executedAt: "2026-03-01T23:30:00Z",
      timeZone: "Asia/Tokyo",
    };
    const arab = render({ ...trade, locale: "en-u-nu-arab" });
    expect(arab.sms).toBe("Exchange: You sold 0.02 BTC for $1,000.00. Order ref-42");
    expect(arab.text).toContain(
      "Time: Mar 2, 2026, 08:30:00 AM GMT+9 (Mar 1, 2026, 11:30:00 PM UTC)\n",
    );
    for (const [extended, plain] of [
      ["en-u-nu-arab", "en"],
      ["en-u-nu-mathsans", "en"],
      ["en-US-u-ca-buddhist-hc-h23", "en-US"],
      ["fr-CA-u-nu-arab", "fr-CA"],
      ["zh-Hans-CN-u-nu-hanidec", "zh-Hans-CN"],
      ["ja-JP-u-ca-japanese", "ja-JP"],
    ]) {
      const rendered = render({ ...trade, locale: extended });
      expect(rendered, extended).toEqual(render({ ...trade, locale: plain }));
      // Every digit the customer reads is one of 0-9.
      expect(`${rendered.sms}${rendered.text}`.match(/[^\P{Nd}0-9]/gu), extended).toBeNull();
    }
  });

  it("puts the security line with the support link on withdrawals only", () => {
    const withdrawal = render({ ...BASE, type: "withdrawal.sent" });
    expect(withdrawal.text).toContain(
      "If this wasn't you, contact Exchange support immediately. https://example.com/support",
    );
    expect(withdrawal.html).toContain(escapeHtml("If this wasn't you"));
    expect(withdrawal.html).toContain(`href="${DEFAULT_MESSAGE_ENV.BRAND_SUPPORT_URL}"`);
    expect(render({ ...BASE, type: "deposit.received" }).text).not.toContain("this wasn't you");
  });

  it("writes an email-client-safe document: declared language, dark-mode aware, no script", () => {
    const { html } = render({ ...BASE, locale: "de" });
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<html lang="de" dir="ltr"');
    expect(html).toContain('<meta name="color-scheme" content="light dark"');
    expect(html).toContain("prefers-color-scheme: dark");
    expect(html).not.toMatch(/<script|%%[A-Z_]+%%/);
  });

  it("never lets a value into the HTML unescaped, nor a line break into the subject or SMS", () => {
    const hostile = fc.oneof(
      fc.string({ minLength: 1, maxLength: 128 }),
      fc.constantFrom(
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "a\r\nBcc: x@evil.test",
        "&amp;&lt;",
        "%%ROWS%%",
      ),
    );
    fc.assert(
      fc.property(fc.constantFrom(...NOTIFICATION_TYPES), hostile, (type, order) => {
        fc.pre(order.trim().length > 0);
        const rendered = render({ ...BASE, type, order });
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

describe("deterministic rendering", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("renders the same bytes before and after the clock moves (a retry keeps its Resend idempotency key valid)", async () => {
    const payloads = NOTIFICATION_TYPES.map((type) => ({
      ...BASE,
      type,
      locale: "fr-CA",
      timeZone: "America/Montreal",
      executedAt: "2026-06-30T22:15:00Z",
      price: "64999.99",
      fee: "0",
    }));
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-06-30T22:15:01Z"));
    const first = payloads.map((payload) => JSON.stringify(render(payload)));
    // A day, a DST change and a new year later, in a fresh renderer (a restarted worker).
    vi.setSystemTime(new Date("2027-01-01T00:00:00Z"));
    const restarted = await rendererFromEnv();
    expect(payloads.map((payload) => JSON.stringify(restarted(payload)))).toEqual(first);
    expect(payloads.map((payload) => JSON.stringify(render(payload)))).toEqual(first);
    // "Now" never appears: neither year of the clock is in any message.
    expect(first.join("")).not.toMatch(/2027/);
  });
});

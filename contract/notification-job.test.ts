import { describe, expect, it } from "vitest";
import { notificationPayloadSchema } from "./notification-job.js";

const PAYLOAD = {
  to: "user@example.com",
  asset: "BTC",
  amount: "1000",
  quantity: "0.02",
  order: "order-id-123",
};

/** The one message the worker (and, through its error shape, the gateway) gives a payload. */
function refusal(change: Record<string, unknown>): string[] {
  const parsed = notificationPayloadSchema.safeParse({ ...PAYLOAD, ...change });
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

const LINK = "must not contain a link or email address: mail and SMS clients make them tappable";
const SPACE = "must not contain spaces or line breaks";
const COMBINING = "must not stack more than 2 combining marks on a character";
const LOOK_ALIKE = "must not mix letters of different scripts (Latin, Cyrillic): look-alikes";
const ORDER_ALPHABET =
  "must be 1-128 ASCII letters, digits or . _ -, starting and ending with a letter or digit";
const ASSET_ALPHABET =
  "must be 1-20 ASCII letters or digits, in groups joined by one of . _ - (BTC, USDC.e, BTC-PERP)";
const invisible = (codePoint: string) =>
  `must not contain invisible, filler or control characters (found U+${codePoint})`;

describe("customer-visible ids in the payload", () => {
  it.each([
    ["order", "ord-8f3a2c1e"],
    ["order", "order-id-123"],
    ["order", "dep-7c20e4"],
    ["order", "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c"],
    ["order", "x"],
    ["order", "TRADE_2024.0001"],
    ["asset", "BTC"],
    ["asset", "USDC.e"],
    ["asset", "BTC-PERP"],
    ["asset", "BRK.B"],
    ["asset", "1INCH"],
    ["feeAsset", "USDT"],
    ["feeAsset", "USDC.e"],
  ])("accepts %s %s", (field, value) => {
    expect(refusal({ [field]: value })).toEqual([]);
  });

  it("accepts a fill id of the order's alphabet", () => {
    expect(refusal({ fill: { id: "ord-8f3a2c1e-fill-7", final: false } })).toEqual([]);
  });

  it.each([
    ["a schemeless link as the order", { order: "bit.ly/3xYzAb" }, `order: ${LINK}`],
    [
      "a sentence with a phone number as the order",
      { order: "77. SECURITY ALERT: 5 BTC withdrawal pending. Not you? Call +1 800 555 0100 now" },
      `order: ${SPACE}`,
    ],
    ["a schemeless link as the asset", { asset: "bit.ly/evil-login" }, `asset: ${LINK}`],
    ["a schemeless link as the fee asset", { feeAsset: "evil.co/claim" }, `feeAsset: ${LINK}`],
    ["a domain as the order", { order: "claim.evil.com" }, `order: ${LINK}`],
    ["an email address as the order", { order: "help@evil.co" }, `order: ${LINK}`],
    ["a www host as the order", { order: "www.evil.example" }, `order: ${LINK}`],
    ["a URL as the order", { order: "https://evil.example/claim" }, `order: ${LINK}`],
    ["a host on a newer TLD as the order", { order: "claim.app" }, `order: ${LINK}`],
    ["an IP address as the order", { order: "10.0.0.1" }, `order: ${LINK}`],
    ["a Hangul filler (U+3164)", { order: "ord\u3164-1" }, `order: ${invisible("3164")}`],
    ["a Hangul choseong filler (U+115F)", { order: "\u115Ford-1" }, `order: ${invisible("115F")}`],
    ["a Hangul jungseong filler (U+1160)", { order: "ord-1\u1160" }, `order: ${invisible("1160")}`],
    ["a halfwidth Hangul filler (U+FFA0)", { asset: "BTC\uFFA0" }, `asset: ${invisible("FFA0")}`],
    ["a braille blank (U+2800)", { order: "ord\u28001" }, `order: ${invisible("2800")}`],
    ["a zero-width space", { order: "ord\u200B-1" }, `order: ${invisible("200B")}`],
    ["a bidi isolate", { feeAsset: "\u2066USDT" }, `feeAsset: ${invisible("2066")}`],
    ["a right-to-left override", { order: "ord-\u202Egnp.exe" }, `order: ${invisible("202E")}`],
    ["a Cyrillic look-alike in the order", { order: "ord\u0435r-1" }, `order: ${LOOK_ALIKE}`],
    ["a Cyrillic look-alike in the asset", { asset: "BT\u0421" }, `asset: ${LOOK_ALIKE}`],
    ["an asset wholly in Cyrillic", { asset: "\u0412\u0422\u0421" }, `asset: ${ASSET_ALPHABET}`],
    [
      "120 combining accents on one letter of the order",
      { order: `o${"\u0301".repeat(120)}rd-1` },
      `order: ${COMBINING}`,
    ],
    [
      "120 combining accents on one letter of the asset",
      { asset: `B${"\u0301".repeat(120)}TC` },
      `asset: ${COMBINING}`,
    ],
    ["a space in a fill id", { fill: { id: "fill 7", final: false } }, `fill.id: ${SPACE}`],
    ["a slash in the order", { order: "ord/1" }, `order: ${ORDER_ALPHABET}`],
    ["a leading dash in the order", { order: "-ord-1" }, `order: ${ORDER_ALPHABET}`],
    ["a 129-character order", { order: "o".repeat(129) }, `order: ${ORDER_ALPHABET}`],
    ["a slash in the asset", { asset: "BTC/USD" }, `asset: ${ASSET_ALPHABET}`],
    ["two separators in a row in the asset", { asset: "BTC..X" }, `asset: ${ASSET_ALPHABET}`],
  ])("refuses %s, naming the field and the rule", (_name, change, message) => {
    expect(refusal(change)).toEqual([message]);
  });

  it("judges a value in NFC: marks that compose into letters are not a run of marks", () => {
    // e + dot below + circumflex compose into one letter (ệ); the acute after it is one mark.
    expect(refusal({ order: "ord-e\u0323\u0302\u0301" })).toEqual([`order: ${ORDER_ALPHABET}`]);
    expect(refusal({ order: "ord-e\u0301\u0301\u0301\u0301" })).toEqual([`order: ${COMBINING}`]);
  });
});

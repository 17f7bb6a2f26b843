import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NOTIFICATION_TYPES, notificationPayloadSchema } from "../contract/notification-job.js";
import { brandOf } from "./brand.js";
import { fallbackChain, loadCatalogs } from "./catalogs.js";
import { DEFAULT_MESSAGE_ENV } from "./message-env.js";
import { catalogKeys } from "./message-keys.js";
import { createRenderer } from "./renderer.js";
import { SHIPPED_CATALOGS } from "./shipped-catalogs.js";

const SHIPPED = ["en", "es", "pt-BR", "tr", "ja", "ko", "zh-Hans", "de", "fr", "vi"];

const dirs: string[] = [];
function messagesDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "messages-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === "string" ? content : JSON.stringify(content));
  }
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const PAYLOAD = notificationPayloadSchema.parse({
  to: "user@example.com",
  asset: "ETH",
  amount: "2500.5",
  quantity: "1.000000000000000001",
  order: "ord-7",
  side: "buy",
});

describe("message catalogs", () => {
  it("ships every key in every locale, and nothing else", () => {
    expect(Object.keys(SHIPPED_CATALOGS).sort()).toEqual([...SHIPPED].sort());
    for (const locale of SHIPPED) {
      expect(Object.keys(SHIPPED_CATALOGS[locale] ?? {}).sort(), locale).toEqual(
        catalogKeys().sort(),
      );
    }
  });

  it.each([
    ["fr-CA", "fr"],
    ["fr", "fr"],
    ["pt", "pt-BR"],
    ["pt-PT", "en"],
    ["zh-CN", "zh-Hans"],
    ["zh", "zh-Hans"],
    ["de-AT", "de"],
    ["sw", "en"],
    [undefined, "en"],
  ])("resolves %s to the %s catalog", (requested, expected) => {
    expect(loadCatalogs({ defaultLocale: "en" }).resolve(requested).locale).toBe(expected);
  });

  it("falls back to the deployment's default locale", () => {
    expect(loadCatalogs({ defaultLocale: "de" }).resolve("sw").locale).toBe("de");
  });

  it("lists a tag's fallbacks from most to least specific", () => {
    expect(fallbackChain("fr-CA")).toEqual(["fr-CA", "fr", "fr-Latn"]);
  });

  it("renders every type in every shipped locale with the exact quantity and no English left over", async () => {
    const render = await createRenderer({
      catalogs: loadCatalogs({ defaultLocale: "en" }),
      brand: brandOf(DEFAULT_MESSAGE_ENV),
      defaultTimeZone: "UTC",
    });
    const english = new Set(
      NOTIFICATION_TYPES.map((type) => render({ ...PAYLOAD, type, locale: "en" }).subject),
    );
    for (const locale of SHIPPED) {
      for (const type of NOTIFICATION_TYPES) {
        const rendered = render({ ...PAYLOAD, type, locale });
        const separator = new Intl.NumberFormat(locale).format(1.5).charAt(1);
        const quantity = `1${separator}000000000000000001`;
        expect(rendered.subject, `${type} ${locale}`).toContain(quantity);
        expect(rendered.sms, `${type} ${locale}`).toContain(quantity);
        expect(rendered.text, `${type} ${locale}`).toContain("ord-7");
        expect(rendered.html, `${type} ${locale}`).toContain(`<html lang="${locale}"`);
        if (locale !== "en") expect(english.has(rendered.subject), `${type} ${locale}`).toBe(false);
      }
    }
  });

  it("takes wording overrides and new locales from MESSAGES_DIR without code", async () => {
    const dir = messagesDir({
      "en.json": { "trade.executed.sms": "{brand}: filled {quantity} {asset}. {order}" },
      // fr-CA inherits everything else from the shipped fr.
      "fr-CA.json": { "label.order": "Commande" },
    });
    const catalogs = loadCatalogs({ messagesDir: dir, defaultLocale: "en" });
    const render = await createRenderer({
      catalogs,
      brand: brandOf(DEFAULT_MESSAGE_ENV),
      defaultTimeZone: "UTC",
    });
    expect(render(PAYLOAD).sms).toBe("Exchange: filled 1.000000000000000001 ETH. ord-7");
    expect(render({ ...PAYLOAD, locale: "fr-CA" }).text).toContain("Commande: ord-7");
    expect(render({ ...PAYLOAD, locale: "fr" }).text).toContain("Ordre: ord-7");
    expect(catalogs.resolve("fr-CA").locale).toBe("fr-CA");
  });

  it("writes a right-to-left locale added from MESSAGES_DIR right to left", async () => {
    // A complete catalog (English words stand in for Arabic ones).
    const dir = messagesDir({ "ar.json": SHIPPED_CATALOGS.en });
    const render = await createRenderer({
      catalogs: loadCatalogs({ messagesDir: dir, defaultLocale: "en" }),
      brand: brandOf(DEFAULT_MESSAGE_ENV),
      defaultTimeZone: "UTC",
    });
    expect(render({ ...PAYLOAD, locale: "ar-EG" }).html).toContain('<html lang="ar" dir="rtl"');
    expect(render(PAYLOAD).html).toContain('<html lang="en" dir="ltr"');
  });

  it.each([
    [{ "en.json": "{ not json" }, /en\.json: not valid JSON/],
    [{ "en.json": { "trade.executed.sms": "{brand" } }, /en\.json: "trade\.executed\.sms": /],
    [
      { "en.json": { "trade.executed.sms": "{brand} {balance}" } },
      /en\.json: "trade\.executed\.sms": .*balance/,
    ],
    [
      { "de.json": { "trade.executed.smss": "x" } },
      /de\.json: "trade\.executed\.smss": unknown key/,
    ],
    [{ "it.json": { "label.asset": "Attività" } }, /it\.json: "trade\.executed\.subject": missing/],
    [{ "not a tag!.json": {} }, /not a tag!\.json: "not a tag!" is not a BCP 47 language tag/],
  ])("refuses a broken catalog, naming its file and key (%#)", (files, message) => {
    const dir = messagesDir(files);
    expect(() => loadCatalogs({ messagesDir: dir, defaultLocale: "en" })).toThrow(message);
  });

  it("refuses a default locale without a catalog", () => {
    expect(() => loadCatalogs({ defaultLocale: "it" })).toThrow(
      /DEFAULT_LOCALE: no catalog for "it"/,
    );
  });
});

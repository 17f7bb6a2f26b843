import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NOTIFICATION_TYPES, notificationPayloadSchema } from "../contract/notification-job.js";
import { bundleMetafile } from "../scripts/bundle.js";
import { EMAIL_LAYOUTS_FILE, generateEmailLayouts } from "../scripts/generate-email-layouts.js";
import { type Brand, textColorOn } from "./brand.js";
import { loadCatalogs } from "./catalogs.js";
import { createEmailLayout, type EmailParts } from "./email-layout.js";
import { compileLayout } from "./email-layout-source.js";
import { createRenderer } from "./renderer.js";
import { SHIPPED_CATALOGS } from "./shipped-catalogs.js";

/** The five HTML escapes and `%`, written independently of the code under test. */
function escaped(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;")
    .replaceAll("%", "&#37;");
}

/** What the layout did before it was compiled ahead of time: MJML over the brand's own values. */
async function compiledWithMjml(brand: Brand, parts: EmailParts): Promise<string> {
  const html = await compileLayout(
    {
      name: escaped(brand.name),
      logoUrl: brand.logoUrl && escaped(brand.logoUrl),
      color: brand.color,
      textColor: textColorOn(brand.color),
      supportUrl: escaped(brand.supportUrl),
      postalAddress: brand.postalAddress && escaped(brand.postalAddress),
    },
    parts.security !== undefined,
  );
  const values: Record<string, string> = {
    LANG: parts.lang,
    DIR: parts.dir,
    TITLE: parts.subject,
    HEADLINE: parts.headline,
    ROWS: "",
    SECURITY_TEXT: parts.security?.text ?? "",
    SECURITY_LINK: parts.security?.linkLabel ?? "",
    FOOTER_REASON: parts.footerReason,
    FOOTER_HELP: parts.footerHelp,
  };
  return html.replace(/%%([A-Z_]+)%%/g, (marker, slot: string) => values[slot] ?? marker);
}

/** Brands whose values MJML could mangle, if it did: every variant (logo, address) is here. */
const BRANDS: Brand[] = [
  { name: "Exchange", color: "#1f3a5f", supportUrl: "https://example.com/support" },
  {
    name: `A&B <"x'> 5%`,
    color: "#F0E68C",
    supportUrl: "https://help.example/?q=a&r=<b>&s='c'",
    postalAddress: "1 Rue & <Co>, 'Paris' 100% $1 $& $$ $'",
  },
  {
    name: "$` $& %%",
    logoUrl: 'https://cdn.example/logo.png?a=1&b="2"',
    color: "#FFFFFF",
    supportUrl: "https://example.com/%20help",
  },
  {
    name: "Ünïcode 交易所",
    logoUrl: "https://cdn.example/l.png",
    color: "#000000",
    supportUrl: "https://example.com/support",
    postalAddress: "Main St 5\nSpringfield",
  },
];

const PARTS: EmailParts = {
  lang: "fr",
  dir: "ltr",
  subject: "Sujet",
  headline: "Titre",
  facts: [],
  footerReason: "Raison",
  footerHelp: "Aide",
};

describe("the email layout", () => {
  it("is the committed compile of the MJML source", async () => {
    const message = `${EMAIL_LAYOUTS_FILE} is out of date with email-layout-source.ts: run \`npm run generate:email-layouts\` and commit the result`;
    expect(readFileSync(EMAIL_LAYOUTS_FILE, "utf8"), message).toBe(await generateEmailLayouts());
  }, 30_000);

  it.each(BRANDS.flatMap((brand) => [false, true].map((security) => [brand, security] as const)))(
    "renders what MJML compiles from the brand's own values (%j, security line %s)",
    async (brand, security) => {
      const parts = security
        ? { ...PARTS, security: { text: "Pas vous ?", linkLabel: "Aide" } }
        : PARTS;
      expect(createEmailLayout(brand).render(parts)).toBe(await compiledWithMjml(brand, parts));
    },
  );

  it("is never bundled with MJML: neither process imports it", async () => {
    const metafile = await bundleMetafile();
    const packages = Object.values(metafile.outputs).flatMap((output) =>
      output.imports.filter((imported) => imported.external).map((imported) => imported.path),
    );
    expect(packages).toContain("bullmq");
    expect(packages.filter((name) => name === "mjml" || name.startsWith("mjml/"))).toEqual([]);
  });

  it("makes no third-party request when opened: no URL but the brand's own, in every type and locale", async () => {
    const brand: Brand = {
      name: "Exchange",
      logoUrl: "https://cdn.exchange.example/logo.png",
      color: "#1f3a5f",
      supportUrl: "https://help.exchange.example/support",
      postalAddress: "1 Main St",
    };
    const payload = notificationPayloadSchema.parse({
      to: "user@example.com",
      asset: "BTC",
      amount: "1000",
      quantity: "0.02",
      order: "ord-8f3a2c1e",
    });
    for (const withLogo of [true, false]) {
      const render = await createRenderer({
        catalogs: loadCatalogs({ defaultLocale: "en" }),
        brand: withLogo ? brand : { ...brand, logoUrl: undefined },
        defaultTimeZone: "UTC",
      });
      for (const locale of Object.keys(SHIPPED_CATALOGS)) {
        const htmls = [
          ...NOTIFICATION_TYPES.map((type) => render({ ...payload, type, locale }).html),
          render({ ...payload, locale }, { fills: 3 }).html,
        ];
        for (const html of htmls) {
          // A namespace name (xmlns="http://www.w3.org/1999/xhtml") names a vocabulary; no
          // client fetches it. Every other URL is one a client may load or the customer follow.
          const urls = html
            .replace(/\sxmlns(:\w+)?="[^"]*"/g, "")
            .match(/(?:https?:)?\/\/[^\s"'<>()]+/gi);
          expect(new Set(urls), `${locale} ${withLogo ? "logo" : "name"}`).toEqual(
            new Set([...(withLogo ? [brand.logoUrl] : []), brand.supportUrl]),
          );
        }
      }
    }
  });
});

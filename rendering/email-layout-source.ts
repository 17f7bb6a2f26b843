/**
 * The email layout in MJML and its compiler. Only `npm run generate:email-layouts` and the tests
 * import this file: MJML (with html-minifier, juice, cheerio, ...) is about 60 MiB of a process's
 * memory, so the worker and the gateway's previews fill the HTML it compiled ahead of time into
 * email-layouts.generated.ts instead (email-layout.ts).
 */
import mjml2html from "mjml";
import { LAYOUT_VARIANTS, variantName } from "./email-layout-variants.js";

/**
 * What the layout says about the brand, each value already as it goes into the markup (escaped,
 * or a marker): a `%%BRAND_…%%` marker when compiling ahead of time, the brand's own values when
 * a test compiles a brand's layout directly.
 */
export interface LayoutBrand {
  name: string;
  logoUrl?: string | undefined;
  /** A colour MJML accepts (`#rrggbb`): the header's background. */
  color: string;
  /** The header's text colour on `color`. */
  textColor: string;
  supportUrl: string;
  postalAddress?: string | undefined;
}

/** System fonts only: the reader's device has them, so opening the email fetches nothing. */
const FONT = "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

/**
 * The layout in MJML, with `%%SLOT%%` markers where each message's text goes. Every colour is
 * set on an explicit background (no white text on a transparent cell a dark-mode client may
 * darken or invert), and `color-scheme` tells clients the email has a dark variant.
 */
export function layoutSource(brand: LayoutBrand, withSecurity: boolean): string {
  const header = brand.logoUrl
    ? `<mj-image src="${brand.logoUrl}" alt="${brand.name}" width="160px" align="left" padding="0" />`
    : `<mj-text color="${brand.textColor}" font-size="20px" font-weight="700" padding="0">${brand.name}</mj-text>`;
  const security = withSecurity
    ? `<mj-text css-class="nf-security" background-color="#fff7ed" color="#7c2d12" padding="12px 16px" container-background-color="#fff7ed">%%SECURITY_TEXT%% <a href="${brand.supportUrl}" style="color:#9a3412;font-weight:700">%%SECURITY_LINK%%</a></mj-text>`
    : "";
  const address = brand.postalAddress
    ? `<mj-text css-class="nf-muted" color="#52525b" font-size="12px" padding="4px 0 0">${brand.postalAddress}</mj-text>`
    : "";
  return `<mjml lang="%%LANG%%" dir="%%DIR%%">
  <mj-head>
    <mj-title>%%TITLE%%</mj-title>
    <mj-preview>%%HEADLINE%%</mj-preview>
    <mj-attributes>
      <mj-all font-family="${FONT}" />
      <mj-text font-size="15px" line-height="22px" color="#18181b" />
    </mj-attributes>
    <mj-raw>
      <meta name="color-scheme" content="light dark" />
      <meta name="supported-color-schemes" content="light dark" />
    </mj-raw>
    <mj-style>
      :root { color-scheme: light dark; supported-color-schemes: light dark; }
      @media (prefers-color-scheme: dark) {
        .nf-page, .nf-page > div { background: #18181b !important; }
        .nf-footer, .nf-footer > div, .nf-footer table, .nf-footer td { background: #18181b !important; }
        .nf-card, .nf-card > table, .nf-card td { background: #27272a !important; }
        .nf-card div, .nf-card td, .nf-card strong { color: #f4f4f5 !important; }
        .nf-muted div { color: #a1a1aa !important; }
        .nf-muted a { color: #d4d4d8 !important; }
        .nf-security div, .nf-security td { background: #431407 !important; color: #fed7aa !important; }
        .nf-security a { color: #fdba74 !important; }
      }
    </mj-style>
  </mj-head>
  <mj-body background-color="#f4f4f5" width="600px" css-class="nf-page">
    <mj-section background-color="${brand.color}" padding="16px 24px">
      <mj-column>${header}</mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="24px" css-class="nf-card">
      <mj-column>
        <mj-text font-size="20px" line-height="28px" font-weight="700" padding="0 0 16px">%%HEADLINE%%</mj-text>
        <mj-table padding="0" table-layout="fixed" width="100%">%%ROWS%%</mj-table>
        ${security ? `<mj-spacer height="16px" />${security}` : ""}
      </mj-column>
    </mj-section>
    <mj-section background-color="#f4f4f5" padding="16px 24px" css-class="nf-footer">
      <mj-column>
        <mj-text css-class="nf-muted" color="#52525b" font-size="12px" line-height="18px" padding="0">%%FOOTER_REASON%% <a href="${brand.supportUrl}" style="color:#27272a">%%FOOTER_HELP%%</a></mj-text>
        ${address}
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;
}

/**
 * Compiles one layout to HTML with MJML (about 20 ms, asynchronous). MJML links a Google Fonts
 * stylesheet for any of its known web fonts a font stack names (Roboto here); `fonts: {}` turns
 * that off, since the request would tell a third party who opened which email, and when.
 */
export async function compileLayout(brand: LayoutBrand, withSecurity: boolean): Promise<string> {
  const result = await mjml2html(layoutSource(brand, withSecurity), {
    validationLevel: "strict",
    fonts: {},
  });
  return result.html;
}

/**
 * Stand-ins for the two colours while compiling ahead of time: MJML's strict validation wants a
 * colour there, not a `%%…%%` marker, so each is compiled as a colour the layout uses nowhere
 * else and then replaced by its marker.
 */
const COLOR_STAND_INS = {
  "%%BRAND_COLOR%%": "#010203",
  "%%BRAND_TEXT_COLOR%%": "#040506",
} as const;

/**
 * Compiles every variant with a `%%BRAND_…%%` marker where each brand value goes (NAME,
 * LOGO_URL, COLOR, TEXT_COLOR, SUPPORT_URL, POSTAL_ADDRESS), for email-layout.ts to fill once
 * per brand. MJML copies text and attribute values through unchanged, so filling a marker with a
 * value gives what compiling with that value gives (email-layout.test.ts checks it on hostile
 * brands).
 */
export async function compileLayoutTemplates(): Promise<Record<string, string>> {
  const compiled: Record<string, string> = {};
  for (const variant of LAYOUT_VARIANTS) {
    let html = await compileLayout(
      {
        name: "%%BRAND_NAME%%",
        logoUrl: variant.logo ? "%%BRAND_LOGO_URL%%" : undefined,
        color: COLOR_STAND_INS["%%BRAND_COLOR%%"],
        textColor: COLOR_STAND_INS["%%BRAND_TEXT_COLOR%%"],
        supportUrl: "%%BRAND_SUPPORT_URL%%",
        postalAddress: variant.address ? "%%BRAND_POSTAL_ADDRESS%%" : undefined,
      },
      variant.security,
    );
    for (const [marker, standIn] of Object.entries(COLOR_STAND_INS)) {
      // The header's text colour is there only without a logo.
      const expected = marker === "%%BRAND_COLOR%%" || !variant.logo;
      if (expected && !html.includes(standIn)) throw new Error(`MJML dropped ${marker}`);
      html = html.replaceAll(standIn, marker);
    }
    compiled[variantName(variant)] = html;
  }
  return compiled;
}

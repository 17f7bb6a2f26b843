import mjml2html from "mjml";
import { type Brand, textColorOn } from "./brand.js";
import { escapeHtml } from "./escape-html.js";

/** What one email says, in the customer's language; plain text, escaped here. */
export interface EmailParts {
  lang: string;
  dir: "ltr" | "rtl";
  subject: string;
  headline: string;
  facts: Array<[label: string, value: string]>;
  /** The "If this wasn't you" line and its link's label, on security-relevant messages. */
  security?: { text: string; linkLabel: string } | undefined;
  footerReason: string;
  footerHelp: string;
}

const SLOTS = [
  "LANG",
  "DIR",
  "TITLE",
  "HEADLINE",
  "ROWS",
  "SECURITY_TEXT",
  "SECURITY_LINK",
  "FOOTER_REASON",
  "FOOTER_HELP",
] as const;
type Slot = (typeof SLOTS)[number];

const FONT = "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

/** A brand value baked into the layout: escaped, and unable to look like a slot. */
function baked(value: string): string {
  return escapeHtml(value).replaceAll("%", "&#37;");
}

/**
 * The layout in MJML, with `%%SLOT%%` markers where each message's text goes. Every colour is
 * set on an explicit background (no white text on a transparent cell a dark-mode client may
 * darken or invert), and `color-scheme` tells clients the email has a dark variant.
 */
function layoutSource(brand: Brand, withSecurity: boolean): string {
  const onBrand = textColorOn(brand.color);
  const header = brand.logoUrl
    ? `<mj-image src="${baked(brand.logoUrl)}" alt="${baked(brand.name)}" width="160px" align="left" padding="0" />`
    : `<mj-text color="${onBrand}" font-size="20px" font-weight="700" padding="0">${baked(brand.name)}</mj-text>`;
  const security = withSecurity
    ? `<mj-text css-class="nf-security" background-color="#fff7ed" color="#7c2d12" padding="12px 16px" container-background-color="#fff7ed">%%SECURITY_TEXT%% <a href="${baked(brand.supportUrl)}" style="color:#9a3412;font-weight:700">%%SECURITY_LINK%%</a></mj-text>`
    : "";
  const address = brand.postalAddress
    ? `<mj-text css-class="nf-muted" color="#52525b" font-size="12px" padding="4px 0 0">${baked(brand.postalAddress)}</mj-text>`
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
        <mj-text css-class="nf-muted" color="#52525b" font-size="12px" line-height="18px" padding="0">%%FOOTER_REASON%% <a href="${baked(brand.supportUrl)}" style="color:#27272a">%%FOOTER_HELP%%</a></mj-text>
        ${address}
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;
}

/** One fact as a table row: label left, value right, long values wrapped instead of overflowing. */
function factRow([label, value]: [string, string]): string {
  return (
    `<tr><td style="padding:6px 8px 6px 0;color:#52525b;vertical-align:top;width:40%">${escapeHtml(label)}</td>` +
    `<td style="padding:6px 0;color:#18181b;vertical-align:top;word-break:break-word;overflow-wrap:anywhere"><strong>${escapeHtml(value)}</strong></td></tr>`
  );
}

/** Renders emails in one brand's layout. */
export interface EmailLayout {
  render(parts: EmailParts): string;
}

/**
 * MJML takes about 20 ms to compile a layout (and does it asynchronously), far too slow per
 * email at 180 emails/s, so both variants (with and without the security line) are compiled
 * once, when the renderer is built, and each email fills its escaped text into the compiled
 * HTML: one pass that never re-reads inserted text, so a value containing `%%ROWS%%` stays text.
 */
export async function createEmailLayout(brand: Brand): Promise<EmailLayout> {
  const compile = async (withSecurity: boolean): Promise<string> => {
    const result = await mjml2html(layoutSource(brand, withSecurity), {
      validationLevel: "strict",
    });
    return result.html;
  };
  const [plain, withSecurity] = await Promise.all([compile(false), compile(true)]);
  return {
    render(parts) {
      const values: Record<Slot, string> = {
        LANG: escapeHtml(parts.lang),
        DIR: parts.dir,
        TITLE: escapeHtml(parts.subject),
        HEADLINE: escapeHtml(parts.headline),
        ROWS: parts.facts.map(factRow).join(""),
        SECURITY_TEXT: escapeHtml(parts.security?.text ?? ""),
        SECURITY_LINK: escapeHtml(parts.security?.linkLabel ?? ""),
        FOOTER_REASON: escapeHtml(parts.footerReason),
        FOOTER_HELP: escapeHtml(parts.footerHelp),
      };
      const layout = parts.security ? withSecurity : plain;
      return layout.replace(/%%([A-Z_]+)%%/g, (marker, slot: string) =>
        Object.hasOwn(values, slot) ? values[slot as Slot] : marker,
      );
    },
  };
}

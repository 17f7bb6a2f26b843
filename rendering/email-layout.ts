import { type Brand, textColorOn } from "./brand.js";
import { variantName } from "./email-layout-variants.js";
import { EMAIL_LAYOUT_TEMPLATES } from "./email-layouts.generated.js";
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

/** A message's slots in the layout, filled per email. */
type MessageSlot =
  | "LANG"
  | "DIR"
  | "TITLE"
  | "HEADLINE"
  | "ROWS"
  | "SECURITY_TEXT"
  | "SECURITY_LINK"
  | "FOOTER_REASON"
  | "FOOTER_HELP";

/** A brand value baked into the layout: escaped, and unable to look like a slot. */
function baked(value: string): string {
  return escapeHtml(value).replaceAll("%", "&#37;");
}

/**
 * Replaces each `%%SLOT%%` that `values` names, in one pass that never re-reads inserted text
 * (a value containing `%%ROWS%%` stays text); other markers are left for a later fill.
 */
function fillSlots(html: string, values: Readonly<Record<string, string>>): string {
  return html.replace(/%%([A-Z_]+)%%/g, (marker, slot: string) =>
    Object.hasOwn(values, slot) ? (values[slot] as string) : marker,
  );
}

/** One compiled variant (email-layouts.generated.ts) with the brand's values filled in. */
function brandedLayout(brand: Brand, security: boolean): string {
  const variant = { logo: Boolean(brand.logoUrl), address: Boolean(brand.postalAddress), security };
  const template = EMAIL_LAYOUT_TEMPLATES[variantName(variant)];
  if (template === undefined) throw new Error("email-layouts.generated.ts lacks a variant");
  return fillSlots(template, {
    BRAND_NAME: baked(brand.name),
    BRAND_LOGO_URL: baked(brand.logoUrl ?? ""),
    // `#rrggbb` (the env schema checks it), copied as MJML copies it.
    BRAND_COLOR: brand.color,
    BRAND_TEXT_COLOR: textColorOn(brand.color),
    BRAND_SUPPORT_URL: baked(brand.supportUrl),
    BRAND_POSTAL_ADDRESS: baked(brand.postalAddress ?? ""),
  });
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
 * The layout is MJML (email-layout-source.ts), compiled to HTML ahead of time
 * (email-layouts.generated.ts): MJML would cost every process about 60 MiB of memory and 20 ms
 * a compile. The brand's values are filled in once here, both variants (with and without the
 * security line) kept, and each email fills its escaped text into one of them.
 */
export function createEmailLayout(brand: Brand): EmailLayout {
  const plain = brandedLayout(brand, false);
  const withSecurity = brandedLayout(brand, true);
  return {
    render(parts) {
      const values: Record<MessageSlot, string> = {
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
      return fillSlots(parts.security ? withSecurity : plain, values);
    },
  };
}

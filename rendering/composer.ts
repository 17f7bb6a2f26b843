import type { Brand } from "./brand.js";
import type { Catalog, Catalogs } from "./catalogs.js";
import { createEmailLayout } from "./email-layout.js";
import { singleLine } from "./format.js";
import type { MessageArguments } from "./message-keys.js";
import type { RenderedNotification } from "./rendered.js";
import { smsText } from "./sms.js";

/** Scripts written right to left; a catalog for one of them gets `dir="rtl"`. */
const RTL = new Set(["ar", "fa", "he", "ur", "ps", "yi", "dv", "ckb"]);

function language(tag: string): string {
  return tag.split("-")[0] ?? tag;
}

/** One message, its values already formatted for the customer's locale. */
export interface MessageContent {
  /** Catalog prefix: `<kind>.subject`, `<kind>.headline`, `<kind>.sms`. */
  kind: string;
  /** Label key → formatted value; left out when undefined. */
  facts: Array<[labelKey: string, value: string | undefined]>;
  /** The catalog messages' arguments (`brand` is added). */
  args: MessageArguments;
  /** Adds "If this wasn't you, …" with the support link. */
  securityNotice: boolean;
}

/** The customer's catalog, and the locale its numbers and dates are formatted in. */
export interface CustomerLocale {
  catalog: Catalog;
  formatLocale: string;
}

/**
 * Writes any message (a notification, a digest) in a deployment's catalogs and brand: subject,
 * HTML, text part and SMS. Pure: the same content gives the same bytes.
 */
export interface MessageComposer {
  brand: Brand;
  defaultTimeZone: string;
  localeOf(requested: string | undefined): CustomerLocale;
  compose(catalog: Catalog, content: MessageContent): RenderedNotification;
}

/**
 * A tag's language, script and region only. Extensions (`-u-nu-arab` or `-u-nu-mathsans` digits,
 * `-u-ca-` calendars, `-u-hc-` clocks) and variants come from whoever sent the payload, not from
 * the customer's settings, and would print amounts and dates in digits the customer may not read
 * as the exchange's own.
 */
function languageAndRegion(tag: string): string {
  try {
    const { language, script, region } = new Intl.Locale(tag);
    return new Intl.Locale(language, { script, region }).toString();
  } catch {
    // The contract lets through only tags Intl reads; any other stays as it was given.
    return tag;
  }
}

/**
 * Numbers and dates follow the customer's own tag (fr-CA groups and places the currency its
 * way) when its catalog is in the same language; otherwise (an unknown language fell back to
 * the default) they follow the catalog, so one message does not mix two languages' conventions.
 */
function customerLocale(catalogs: Catalogs, requested: string | undefined): CustomerLocale {
  const tag = requested && languageAndRegion(requested);
  const catalog = catalogs.resolve(tag);
  const formatLocale = tag && language(tag) === language(catalog.locale) ? tag : catalog.locale;
  return { catalog, formatLocale };
}

/** Builds a deployment's composer; fills its brand into the email layouts once (see email-layout.ts). */
export async function createMessageComposer(settings: {
  catalogs: Catalogs;
  brand: Brand;
  defaultTimeZone: string;
}): Promise<MessageComposer> {
  const { catalogs, brand } = settings;
  const email = createEmailLayout(brand);
  return {
    brand,
    defaultTimeZone: settings.defaultTimeZone,
    localeOf: (requested) => customerLocale(catalogs, requested),
    compose(catalog, content) {
      const args = { ...content.args, brand: brand.name };
      const text = (key: string) => catalog.format(`${content.kind}.${key}`, args);
      const facts = content.facts
        .filter((fact): fact is [string, string] => fact[1] !== undefined)
        .map(([label, value]): [string, string] => [catalog.format(label, args), value]);
      const subject = singleLine(text("subject"));
      const headline = text("headline");
      const security = content.securityNotice
        ? {
            text: catalog.format("security.notYou", args),
            linkLabel: catalog.format("security.contact", args),
          }
        : undefined;
      const footerReason = catalog.format("footer.reason", args);
      const footerHelp = catalog.format("footer.help", args);
      return {
        subject,
        html: email.render({
          lang: catalog.locale,
          dir: RTL.has(language(catalog.locale)) ? "rtl" : "ltr",
          subject,
          headline,
          facts,
          security,
          footerReason,
          footerHelp,
        }),
        text: [
          headline,
          "",
          ...facts.map(([label, value]) => `${label}: ${singleLine(value)}`),
          ...(security ? ["", `${security.text} ${brand.supportUrl}`] : []),
          "",
          "--",
          brand.name,
          footerReason,
          `${footerHelp}: ${brand.supportUrl}`,
          ...(brand.postalAddress ? [brand.postalAddress] : []),
        ].join("\n"),
        sms: smsText(text("sms")),
      };
    },
  };
}

import type { NotificationPayload } from "../../contract/notification-job.js";
import { DEFAULT_MESSAGE_ENV, type MessageEnv } from "../../lib/message-env.js";
import { type Brand, brandOf } from "./brand.js";
import { type Catalog, type Catalogs, loadCatalogs } from "./catalogs.js";
import { createEmailLayout } from "./email-layout.js";
import { formatDecimal, formatInstant, formatMoney, singleLine } from "./format.js";
import type { MessageArguments } from "./message-keys.js";
import type { FormattedValues } from "./message-kind.js";
import { MESSAGE_KIND_OF } from "./message-kinds.js";
import type { RenderedNotification } from "./rendered.js";
import { smsText } from "./sms.js";

/**
 * Renders a notification's email (subject, HTML, text) and SMS. Pure: the same payload gives the
 * same bytes, whenever and however often it runs (no clock, no randomness), so a retry sends
 * exactly what the first try sent under the same Resend idempotency key.
 */
export type NotificationRenderer = (payload: NotificationPayload) => RenderedNotification;

/** Scripts written right to left; a catalog for one of them gets `dir="rtl"`. */
const RTL = new Set(["ar", "fa", "he", "ur", "ps", "yi", "dv", "ckb"]);

function language(tag: string): string {
  return tag.split("-")[0] ?? tag;
}

/**
 * Numbers and dates follow the customer's own tag (fr-CA groups and places the currency its
 * way) when its catalog is in the same language; otherwise (an unknown language fell back to
 * the default) they follow the catalog, so one message does not mix two languages' conventions.
 */
function formattingLocale(requested: string | undefined, catalog: Catalog): string {
  if (requested && language(requested) === language(catalog.locale)) return requested;
  return catalog.locale;
}

function formatValues(
  payload: NotificationPayload,
  locale: string,
  timeZone: string,
  catalog: Catalog,
): FormattedValues {
  const instant = payload.executedAt
    ? formatInstant(locale, payload.executedAt, timeZone)
    : undefined;
  return {
    asset: payload.asset,
    quantity: formatDecimal(locale, payload.quantity),
    amount: formatMoney(locale, payload.amount, payload.currency),
    price: payload.price ? formatMoney(locale, payload.price, payload.currency) : undefined,
    fee:
      payload.fee !== undefined
        ? formatMoney(locale, payload.fee, payload.feeAsset ?? payload.currency)
        : undefined,
    executedAt:
      instant &&
      (timeZone === "UTC" || timeZone === "Etc/UTC"
        ? instant.utc
        : catalog.format("time.withUtc", instant)),
    side: payload.side ? catalog.format(`side.${payload.side}`) : undefined,
    order: payload.order,
  };
}

/** Builds the deployment's renderer: its catalogs, its brand, its default time zone. */
export async function createRenderer(settings: {
  catalogs: Catalogs;
  brand: Brand;
  defaultTimeZone: string;
}): Promise<NotificationRenderer> {
  const { catalogs, brand } = settings;
  const email = await createEmailLayout(brand);
  return (payload) => {
    const kind = MESSAGE_KIND_OF[payload.type];
    const catalog = catalogs.resolve(payload.locale);
    const locale = formattingLocale(payload.locale, catalog);
    const values = formatValues(
      payload,
      locale,
      payload.timeZone ?? settings.defaultTimeZone,
      catalog,
    );
    const args: MessageArguments = {
      brand: brand.name,
      asset: values.asset,
      quantity: values.quantity,
      amount: values.amount,
      side: payload.side ?? "other",
      order: singleLine(values.order),
    };
    const text = (key: string) => catalog.format(`${payload.type}.${key}`, args);
    const facts = kind
      .facts(values)
      .filter((fact): fact is [string, string] => fact[1] !== undefined)
      .map(([label, value]): [string, string] => [catalog.format(label, args), value]);
    const subject = singleLine(text("subject"));
    const headline = text("headline");
    const security = kind.securityNotice
      ? {
          text: catalog.format("security.notYou", args),
          linkLabel: catalog.format("security.contact"),
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
  };
}

/** The renderer of a parsed environment: loads (and validates) its catalogs, reads its brand. */
export function rendererFromEnv(
  env: MessageEnv = DEFAULT_MESSAGE_ENV,
): Promise<NotificationRenderer> {
  return createRenderer({
    catalogs: loadCatalogs({ messagesDir: env.MESSAGES_DIR, defaultLocale: env.DEFAULT_LOCALE }),
    brand: brandOf(env),
    defaultTimeZone: env.DEFAULT_TIME_ZONE,
  });
}

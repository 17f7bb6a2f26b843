import type { NotificationPayload } from "../contract/notification-job.js";
import { brandOf } from "./brand.js";
import type { Catalog } from "./catalogs.js";
import { loadCatalogs } from "./catalogs.js";
import { createMessageComposer, type MessageComposer } from "./composer.js";
import { formatDecimal, formatInstant, formatMoney, singleLine } from "./format.js";
import { DEFAULT_MESSAGE_ENV, type MessageEnv } from "./message-env.js";
import type { FormattedValues } from "./message-kind.js";
import { MESSAGE_KIND_OF } from "./message-kinds.js";
import type { RenderedNotification } from "./rendered.js";
import { tradeDigest } from "./trade-digest.js";

/**
 * Renders a notification's email (subject, HTML, text) and SMS. Pure: the same payload gives the
 * same bytes, whenever and however often it runs (no clock, no randomness), so a retry sends
 * exactly what the first try sent under the same Resend idempotency key.
 */
export type NotificationRenderer = (
  payload: NotificationPayload,
  /** Renders the digest of an order's fills instead (`payload` holds its totals). */
  digest?: { fills: number },
) => RenderedNotification;

/** A notification's values in the customer's locale; `executedAt` in its zone with UTC beside. */
export function formatValues(
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

/** The notification renderer over a deployment's composer. */
export function notificationRenderer(composer: MessageComposer): NotificationRenderer {
  return (payload, digest) => {
    const kind = digest ? tradeDigest : MESSAGE_KIND_OF[payload.type];
    const { catalog, formatLocale } = composer.localeOf(payload.locale);
    const timeZone = payload.timeZone ?? composer.defaultTimeZone;
    const values = {
      ...formatValues(payload, formatLocale, timeZone, catalog),
      ...(digest ? { fills: String(digest.fills) } : {}),
    };
    return composer.compose(catalog, {
      kind: digest ? "trade.digest" : payload.type,
      facts: kind.facts(values),
      args: {
        asset: values.asset,
        quantity: values.quantity,
        amount: values.amount,
        side: payload.side ?? "other",
        order: singleLine(values.order),
        ...(digest ? { fills: values.fills, price: values.price } : {}),
      },
      securityNotice: kind.securityNotice,
    });
  };
}

/** Builds a deployment's notification renderer: its catalogs, its brand, its default zone. */
export async function createRenderer(
  settings: Parameters<typeof createMessageComposer>[0],
): Promise<NotificationRenderer> {
  return notificationRenderer(await createMessageComposer(settings));
}

/** The message settings of a parsed environment, validated: catalogs loaded, brand read. */
export function composerFromEnv(env: MessageEnv = DEFAULT_MESSAGE_ENV): Promise<MessageComposer> {
  return createMessageComposer({
    catalogs: loadCatalogs({ messagesDir: env.MESSAGES_DIR, defaultLocale: env.DEFAULT_LOCALE }),
    brand: brandOf(env),
    defaultTimeZone: env.DEFAULT_TIME_ZONE,
  });
}

/** The notification renderer of a parsed environment. */
export async function rendererFromEnv(
  env: MessageEnv = DEFAULT_MESSAGE_ENV,
): Promise<NotificationRenderer> {
  return notificationRenderer(await composerFromEnv(env));
}

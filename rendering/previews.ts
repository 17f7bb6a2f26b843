/**
 * Every notification type in every locale with sample data, rendered with the deployment's
 * catalogs and brand: what `GET /admin/previews` shows and `npm run preview` writes.
 */
import {
  NOTIFICATION_TYPES,
  type NotificationInput,
  type NotificationType,
  notificationPayloadSchema,
} from "../contract/notification-job.js";
import { brandOf } from "./brand.js";
import { loadCatalogs } from "./catalogs.js";
import type { MessageEnv } from "./message-env.js";
import { createRenderer } from "./renderer.js";
import { smsSegments } from "./sms.js";

/** Sample notifications, one per type: realistic, with every optional field a backend may send. */
export const SAMPLE_NOTIFICATIONS: Record<NotificationType, NotificationInput> = {
  "trade.executed": {
    type: "trade.executed",
    to: "customer@example.com",
    phone: "+12025550143",
    asset: "BTC",
    side: "buy",
    quantity: "0.02350000",
    price: "64840.43",
    amount: "1523.75",
    fee: "1.52",
    executedAt: "2026-03-14T15:09:26Z",
    order: "ord-8f3a2c1e",
  },
  "order.cancelled": {
    type: "order.cancelled",
    to: "customer@example.com",
    phone: "+12025550143",
    asset: "ETH",
    side: "sell",
    quantity: "1.5",
    price: "3500",
    amount: "5250",
    executedAt: "2026-03-14T15:12:00Z",
    order: "ord-51b7d9e0",
  },
  "deposit.received": {
    type: "deposit.received",
    to: "customer@example.com",
    phone: "+12025550143",
    asset: "USDC",
    quantity: "2500",
    amount: "2500",
    executedAt: "2026-03-14T09:30:00Z",
    order: "dep-7c20e4",
  },
  "withdrawal.sent": {
    type: "withdrawal.sent",
    to: "customer@example.com",
    phone: "+12025550143",
    asset: "BTC",
    quantity: "0.15",
    amount: "9726.06",
    fee: "0.0002",
    feeAsset: "BTC",
    executedAt: "2026-03-14T18:45:00Z",
    order: "wd-19ae33",
  },
};

/** A time zone a customer of each shipped locale is likely in, so previews show the conversion. */
const SAMPLE_TIME_ZONES: Record<string, string> = {
  en: "America/New_York",
  es: "Europe/Madrid",
  "pt-BR": "America/Sao_Paulo",
  tr: "Europe/Istanbul",
  ja: "Asia/Tokyo",
  ko: "Asia/Seoul",
  "zh-Hans": "Asia/Shanghai",
  de: "Europe/Berlin",
  fr: "Europe/Paris",
  vi: "Asia/Ho_Chi_Minh",
};

/** One rendered preview. */
export interface MessagePreview {
  type: NotificationType;
  locale: string;
  timeZone: string;
  subject: string;
  html: string;
  text: string;
  sms: string;
  smsEncoding: "GSM-7" | "UCS-2";
  smsSegments: number;
}

/** Renders every type in every locale the deployment has (shipped and MESSAGES_DIR). */
export async function renderPreviews(env: MessageEnv): Promise<MessagePreview[]> {
  const catalogs = loadCatalogs({
    messagesDir: env.MESSAGES_DIR,
    defaultLocale: env.DEFAULT_LOCALE,
  });
  const render = await createRenderer({
    catalogs,
    brand: brandOf(env),
    defaultTimeZone: env.DEFAULT_TIME_ZONE,
  });
  return catalogs.locales.flatMap((locale) =>
    NOTIFICATION_TYPES.map((type) => {
      const timeZone = SAMPLE_TIME_ZONES[locale] ?? env.DEFAULT_TIME_ZONE;
      const payload = notificationPayloadSchema.parse({
        ...SAMPLE_NOTIFICATIONS[type],
        locale,
        timeZone,
      });
      const rendered = render(payload);
      const segments = smsSegments(rendered.sms);
      return {
        type,
        locale,
        timeZone,
        ...rendered,
        smsEncoding: segments.encoding,
        smsSegments: segments.segments,
      };
    }),
  );
}

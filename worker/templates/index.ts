import type { NotificationPayload, NotificationType } from "../../contract/notification-job.js";
import { renderDepositReceived } from "./deposit-received.js";
import { renderOrderCancelled } from "./order-cancelled.js";
import type { RenderedNotification } from "./rendered.js";
import { renderTradeExecuted } from "./trade-executed.js";
import { renderWithdrawalSent } from "./withdrawal-sent.js";

/** The digest of an order's fills is not a type of its own: the worker renders it from totals. */
export { renderTradeDigest } from "./trade-digest.js";

/**
 * One template per notification type. Adding a type: its name in NOTIFICATION_TYPES
 * (contract/notification-job.ts), one file here, one line below; TypeScript refuses a type
 * without a template.
 */
const TEMPLATES: Record<NotificationType, (payload: NotificationPayload) => RenderedNotification> =
  {
    "trade.executed": renderTradeExecuted,
    "order.cancelled": renderOrderCancelled,
    "deposit.received": renderDepositReceived,
    "withdrawal.sent": renderWithdrawalSent,
  };

/** Renders a notification's email (subject, HTML, text) and SMS for its type. */
export function renderNotification(payload: NotificationPayload): RenderedNotification {
  return TEMPLATES[payload.type](payload);
}

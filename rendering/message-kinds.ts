import type { NotificationType } from "../contract/notification-job.js";
import { depositReceived } from "./deposit-received.js";
import type { MessageKind } from "./message-kind.js";
import { orderCancelled } from "./order-cancelled.js";
import { tradeExecuted } from "./trade-executed.js";
import { withdrawalSent } from "./withdrawal-sent.js";

/**
 * One message kind per notification type; TypeScript refuses a type without one. Adding a
 * kind: its name in NOTIFICATION_TYPES (contract/notification-job.ts) or MESSAGE_KINDS
 * (message-keys.ts), one file here with its facts, one line below, and its `subject`,
 * `headline` and `sms` in every catalog in messages/ (catalog validation names any missing).
 */
export const MESSAGE_KIND_OF: Record<NotificationType, MessageKind> = {
  "trade.executed": tradeExecuted,
  "order.cancelled": orderCancelled,
  "deposit.received": depositReceived,
  "withdrawal.sent": withdrawalSent,
};

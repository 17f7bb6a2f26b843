/**
 * A typed client for the gateway's HTTP API, for TypeScript backends that prefer HTTP to adding
 * BullMQ jobs themselves. A thin wrapper over fetch: no dependency beyond the runtime.
 */
import type { NotificationInput } from "../contract/notification-job.js";
import type { NotificationStatus } from "../gateway/notification-status.js";

/** A notification as the API accepts it: the payload plus delivery options. */
export type SendNotification = NotificationInput & {
  priority?: "high" | "normal" | "low";
  /** ISO 8601; at most 30 days ahead. */
  sendAt?: string;
};

export type { NotificationStatus };

/** An answer outside 2xx: the API's error shape, with the HTTP status. */
export class NotificationsApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string,
  ) {
    super(message);
    this.name = "NotificationsApiError";
  }
}

/** The gateway's answer to one item of a batch. */
export interface BatchResult {
  index: number;
  status: "queued" | "rejected";
  id?: string;
  replayed?: boolean;
  error?: { code: string; message: string };
}

/** Creates a client for the gateway at `baseUrl`, authenticated with `apiKey`. */
export function createNotificationsClient(options: {
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
}) {
  const doFetch = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/$/, "");

  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await doFetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.apiKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const payload = (await response.json().catch(() => ({}))) as
      | T
      | { error?: { code: string; message: string; requestId: string } };
    if (!response.ok) {
      const error = (payload as { error?: { code: string; message: string; requestId: string } })
        .error;
      throw new NotificationsApiError(
        response.status,
        error?.code ?? "UNKNOWN",
        error?.message ?? `HTTP ${response.status}`,
        error?.requestId ?? "",
      );
    }
    return payload as T;
  }

  return {
    /** Queues one notification; with `idempotencyKey`, repeats return the first id. */
    send(notification: SendNotification, opts: { idempotencyKey?: string } = {}) {
      const headers: Record<string, string> = opts.idempotencyKey
        ? { "idempotency-key": opts.idempotencyKey }
        : {};
      return call<{ id: string; status: "queued" }>(
        "POST",
        "/notifications",
        notification,
        headers,
      );
    },
    /** Queues up to 100 notifications in one request; each item succeeds or fails alone. */
    sendBatch(notifications: Array<SendNotification & { idempotencyKey?: string }>) {
      return call<{ accepted: number; rejected: number; results: BatchResult[] }>(
        "POST",
        "/notifications/batch",
        { notifications },
      );
    },
    /** A notification's state and what each channel did. */
    get(id: string) {
      return call<NotificationStatus>("GET", `/notifications/${encodeURIComponent(id)}`);
    },
    /** Cancels a notification not sent yet. */
    cancel(id: string) {
      return call<{ id: string; status: "cancelled" }>(
        "DELETE",
        `/notifications/${encodeURIComponent(id)}`,
      );
    },
    /** Retries a failed notification's failed channels. */
    retry(id: string) {
      return call<{ id: string; status: "queued" }>(
        "POST",
        `/notifications/${encodeURIComponent(id)}/retry`,
      );
    },
    /** One page of failed notifications, newest first. */
    listFailed(page = 1, pageSize = 20) {
      return call<{ items: NotificationStatus[]; page: number; pageSize: number; total: number }>(
        "GET",
        `/notifications?state=failed&page=${page}&pageSize=${pageSize}`,
      );
    },
  };
}

export type NotificationsClient = ReturnType<typeof createNotificationsClient>;

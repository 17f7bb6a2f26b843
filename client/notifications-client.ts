/**
 * A typed client for the gateway's HTTP API, for TypeScript backends that prefer HTTP to adding
 * BullMQ jobs themselves. A thin wrapper over openapi-fetch: every request and response type comes
 * from `openapi.ts`, generated from the gateway's own OpenAPI document (`npm run generate:client`).
 */
import createClient from "openapi-fetch";
import type { Channel } from "../contract/channels.js";
import type { components, paths } from "./openapi.js";

type Schemas = components["schemas"];

/** A notification as the API accepts it: the payload plus delivery options (`priority`, `sendAt`). */
export type SendNotification =
  paths["/notifications"]["post"]["requestBody"]["content"]["application/json"];

/** One item of a batch: a notification, with an optional `idempotencyKey` for that item alone. */
export type BatchNotification = SendNotification & Schemas["BatchItem"];

/** The gateway's answer to one item of a batch. */
export type BatchResult = Schemas["BatchResult"];

/** A notification's state and what each channel did. */
export type NotificationStatus = Schemas["NotificationStatus"];

/** A search of `GET /notifications`: every field optional, in any combination. */
export type SearchQuery = NonNullable<paths["/notifications"]["get"]["parameters"]["query"]>;

/** A recipient on the suppression list (docs/delivery-status.md). */
export type Suppression = Schemas["Suppression"];

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

/** The body of a 2xx answer; any other answer is thrown as a `NotificationsApiError`. */
async function unwrap<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) {
    // The API's error shape, or whatever else answered (a proxy's page, an empty body).
    const detail = (error as Partial<Schemas["Error"]> | null | undefined)?.error;
    throw new NotificationsApiError(
      response.status,
      detail?.code ?? "UNKNOWN",
      detail?.message ?? `HTTP ${response.status}`,
      detail?.requestId ?? "",
    );
  }
  return data as T;
}

/** Creates a client for the gateway at `baseUrl`, authenticated with `apiKey`. */
export function createNotificationsClient(options: {
  baseUrl: string;
  apiKey: string;
  /** Called with a `Request`; defaults to the global fetch. */
  fetch?: typeof fetch;
}) {
  const api = createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { authorization: `Bearer ${options.apiKey}` },
    fetch: options.fetch,
  });

  return {
    /** Queues one notification; with `idempotencyKey`, repeats return the first id. */
    send(notification: SendNotification, opts: { idempotencyKey?: string } = {}) {
      return unwrap(
        api.POST("/notifications", {
          body: notification,
          params: { header: { "idempotency-key": opts.idempotencyKey || undefined } },
        }),
      );
    },
    /** Queues up to 100 notifications in one request; each item succeeds or fails alone. */
    sendBatch(notifications: BatchNotification[]) {
      return unwrap(api.POST("/notifications/batch", { body: { notifications } }));
    },
    /** A notification's state and what each channel did. */
    get(id: string) {
      return unwrap(api.GET("/notifications/{id}", { params: { path: { id } } }));
    },
    /** Cancels a notification not sent yet. */
    cancel(id: string) {
      return unwrap(api.DELETE("/notifications/{id}", { params: { path: { id } } }));
    },
    /** Retries a failed notification's failed channels. */
    retry(id: string) {
      return unwrap(api.POST("/notifications/{id}/retry", { params: { path: { id } } }));
    },
    /**
     * One page of notifications matching the query (state, order, recipient, since, until), newest
     * first: the key's own, or with an admin key everyone's; pass `nextCursor` as `cursor` for
     * the next page.
     */
    search(query: SearchQuery = {}) {
      return unwrap(api.GET("/notifications", { params: { query } }));
    },
    /** One page of failed notifications, newest first; pass `nextCursor` for the next. */
    listFailed(query: { cursor?: string; pageSize?: number } = {}) {
      return unwrap(
        api.GET("/notifications", { params: { query: { state: "failed", ...query } } }),
      );
    },
    /** One page of the suppression list (admin-scoped keys); pass `nextCursor` for the next. */
    listSuppressions(query: { channel?: Channel; cursor?: string; limit?: number } = {}) {
      return unwrap(api.GET("/suppressions", { params: { query } }));
    },
    /** Lifts a recipient's suppression (admin-scoped keys). */
    liftSuppression(channel: Channel, recipient: string) {
      return unwrap(
        api.DELETE("/suppressions/{channel}/{recipient}", {
          params: { path: { channel, recipient } },
        }),
      );
    },
  };
}

/** The client `createNotificationsClient` returns. */
export type NotificationsClient = ReturnType<typeof createNotificationsClient>;

import { z } from "@hono/zod-openapi";
import { ErrorResponse } from "./errors.js";

/** OpenAPI response entries for errors, so every route documents the one error shape. */
export function errorResponses<const S extends readonly number[]>(...statuses: S) {
  const descriptions: Record<number, string> = {
    400: "Invalid request body or parameters",
    401: "Missing or invalid API key",
    403: "The API key may not do this",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    415: "Body is not JSON",
    422: "Request cannot be processed as sent",
    429: "Too many requests",
    503: "Redis (the queue) is unreachable; retry later",
  };
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: descriptions[status] ?? "Error",
        content: { "application/json": { schema: ErrorResponse } },
      },
    ]),
  ) as {
    [K in S[number]]: {
      description: string;
      content: { "application/json": { schema: typeof ErrorResponse } };
    };
  };
}

/** The notification id the gateway assigns, or a BullMQ id of a job added directly. */
export const NotificationId = z
  .string()
  .regex(/^[A-Za-z0-9:_-]{1,128}$/)
  .openapi({ param: { name: "id", in: "path" }, example: "6f1c2e0a-4b7d-4c1e-9a51-0d8e2f7b9c33" });

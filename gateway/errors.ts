import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import type { Logger } from "../lib/logger.js";
import { infrastructureError } from "./infrastructure-errors.js";

/** Every error code the API returns; drives the status mapping, `ApiError` and the OpenAPI schema. */
export const ErrorCode = z.enum([
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "UNPROCESSABLE_ENTITY",
  "TOO_MANY_REQUESTS",
  "INTERNAL_SERVER_ERROR",
  "SERVICE_UNAVAILABLE",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

const STATUS_BY_CODE = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_ENTITY: 422,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<ErrorCode, ContentfulStatusCode>;

/** The HTTP status an error code is answered with. */
export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return STATUS_BY_CODE[code];
}

function codeForStatus(status: number): ErrorCode {
  const match = ErrorCode.options.find((code) => STATUS_BY_CODE[code] === status);
  return match ?? (status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST");
}

/** The one JSON shape of every error the API returns. */
export const ErrorResponse = z
  .object({
    error: z.object({
      code: ErrorCode,
      message: z.string(),
      requestId: z.string(),
    }),
  })
  .openapi("Error");
export type ErrorResponse = z.infer<typeof ErrorResponse>;

/** An error meant for the caller: its code picks the status, its message is safe to show. */
export class ApiError extends HTTPException {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(statusOf(code), { message });
    this.name = "ApiError";
  }
}

/** `to: Invalid email address; amount: must be greater than 0` */
export function formatZodError(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const message = issue.message.endsWith("received undefined") ? "is required" : issue.message;
      return issue.path.length > 0 ? `${issue.path.join(".")}: ${message}` : message;
    })
    .join("; ");
}

function errorJson(
  c: Context,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
) {
  const body: ErrorResponse = {
    error: { code, message, requestId: c.get("requestId") ?? "" },
  };
  return c.json(body, statusOf(code), headers);
}

/** Builds the app's error handler, which answers every error with the one JSON shape. */
export function createErrorHandler(logger: Logger) {
  return (err: Error, c: Context) => {
    // Ours: the code and message were written for the caller.
    if (err instanceof ApiError) return errorJson(c, err.code, err.message, err.headers);
    // Hono's and its middleware's (malformed JSON, 415 from the validator): the status is right,
    // the message is Hono's own and carries no internals.
    if (err instanceof HTTPException) {
      // Keep the headers it carries: basicAuth's WWW-Authenticate makes browsers ask for a login.
      const headers = Object.fromEntries(err.getResponse().headers);
      delete headers["content-type"];
      const message = err.status === 401 ? "Unauthorized" : err.message || "Request failed";
      return errorJson(c, codeForStatus(err.status), message, headers);
    }
    // Redis down or paused, a BullMQ state race: 503 or 409, decided in one place. Only the
    // message is logged: an ioredis error carries the command's arguments (contact details).
    const infrastructure = infrastructureError(err);
    if (infrastructure) {
      logger.warn({ requestId: c.get("requestId"), err: err.message }, "infrastructure error");
      return errorJson(c, infrastructure.code, infrastructure.message, infrastructure.headers);
    }
    // Anything else is a bug: log it whole, tell the caller nothing internal.
    logger.error({ err, requestId: c.get("requestId") }, "unhandled error");
    return errorJson(c, "INTERNAL_SERVER_ERROR", "Internal server error");
  };
}

/** Answers unknown routes with the error shape. */
export function notFoundHandler(c: Context) {
  return errorJson(c, "NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`);
}

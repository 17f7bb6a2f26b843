import { z } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";

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

/** The error code of an HTTP status, for errors that carry only a status. */
export function codeForStatus(status: number): ErrorCode {
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

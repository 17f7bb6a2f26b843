import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "../lib/logger.js";
import { ApiError, codeForStatus, type ErrorCode, type ErrorResponse, statusOf } from "./errors.js";
import { infrastructureError } from "./infrastructure-errors.js";

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

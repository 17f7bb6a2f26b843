import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "./errors.js";

/**
 * Refuses bodies over `maxBytes` with 413 without reading them. A declared Content-Length is
 * checked from the header alone, which keeps @hono/node-server's fast body path (hono's
 * bodyLimit always wraps the body in a web stream, a third of the gateway's CPU in a profile);
 * a chunked body, which declares no length, is counted as it streams and cut off at the limit.
 */
export function bodySizeLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new ApiError("PAYLOAD_TOO_LARGE", `Request body exceeds ${maxBytes} bytes`);
  };
  const streamed = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number(length) > maxBytes) tooLarge();
      return next();
    }
    return streamed(c, next);
  };
}

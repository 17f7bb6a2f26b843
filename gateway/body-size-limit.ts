import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "./errors.js";

/**
 * Hono's bodyLimit, answering 413 in the one error shape: a declared Content-Length over
 * `maxBytes` is refused from the header alone, a chunked body is cut off once it passes it.
 */
export function bodySizeLimit(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError("PAYLOAD_TOO_LARGE", `Request body exceeds ${maxBytes} bytes`);
    },
  });
}

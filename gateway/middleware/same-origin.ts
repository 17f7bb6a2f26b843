import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../errors.js";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses, with 403, every state-changing request (anything but GET, HEAD and OPTIONS) that a
 * page on another origin could have made the browser send, for routes behind credentials the
 * browser attaches by itself (HTTP Basic, cookies). Such a page cannot read the answer, but it
 * can auto-submit a form or fire a no-cors fetch, and the browser adds the cached login.
 *
 * - `Sec-Fetch-Site`, when present, must be `same-origin`. Browsers set it and pages cannot forge
 *   it; `same-site` is refused too (a sibling subdomain is another application).
 * - Without it (older browsers, non-browser clients), `Origin` must equal the request's own
 *   origin (scheme and host). No `Origin` either: refused.
 * - A body must be `application/json`. Every content type a page can send cross-origin without
 *   a CORS preflight (text/plain, forms, multipart) is refused, even when it parses as JSON.
 *   A request with no Content-Type must carry no body.
 *
 * Why not hono/csrf: it checks only requests whose Content-Type is a form type or text/plain
 * (or absent) and lets every other type through unchecked, it accepts a request when *either*
 * Sec-Fetch-Site or Origin passes (so an allowed Origin overrides a `cross-site` Sec-Fetch-Site),
 * it does not require JSON bodies, and it answers with its own text body, not the API's error
 * shape.
 */
export function requireSameOrigin(): MiddlewareHandler {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();

    const fetchSite = c.req.header("sec-fetch-site");
    if (fetchSite !== undefined) {
      if (fetchSite !== "same-origin") throw crossOrigin();
    } else {
      const origin = c.req.header("origin");
      if (origin === undefined || origin !== new URL(c.req.url).origin) throw crossOrigin();
    }

    const contentType = c.req.header("content-type");
    if (contentType === undefined ? hasBody(c) : !isJson(contentType)) {
      throw new ApiError("FORBIDDEN", "Request bodies here must be application/json");
    }
    return next();
  };
}

function crossOrigin(): ApiError {
  return new ApiError("FORBIDDEN", "Cross-origin request refused");
}

/** `application/json`, with any parameters (`; charset=utf-8`); media types ignore case. */
function isJson(contentType: string): boolean {
  return contentType.split(";")[0]?.trim().toLowerCase() === "application/json";
}

/** Whether the request declares a body (over HTTP/1.1, by its length or chunked encoding). */
function hasBody(c: Context): boolean {
  const length = c.req.header("content-length");
  return (
    (length !== undefined && length.trim() !== "0") ||
    c.req.header("transfer-encoding") !== undefined
  );
}

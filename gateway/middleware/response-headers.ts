import { randomUUID } from "node:crypto";
import type { HttpBindings } from "@hono/node-server";
import { Hono, type MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

/**
 * The headers hono's `secureHeaders()` sets with its defaults (HSTS, nosniff, frame options...),
 * read once at start by running it: hono stays the owner of the list, and a request pays none of
 * its per-request work.
 */
const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = await (async () => {
  const probe = new Hono().use(secureHeaders()).get("/", (c) => c.body(null));
  const response = await probe.request("/");
  return [...response.headers.entries()];
})();

/** The request id header: always our own id (see responseHeaders). */
export const REQUEST_ID_HEADER = "X-Request-Id";

/**
 * Gives each request its id (`requestId`, and the `X-Request-Id` response header) and the
 * security headers. Always a fresh id: a client's X-Request-Id could make its requests pass for
 * others' in the logs.
 *
 * Served by @hono/node-server, the headers go straight onto Node's response (`c.env.outgoing`),
 * which merges them with the handler's own when it writes the head. Hono would otherwise keep
 * them in a WHATWG `Headers` object, validated header by header, and the adapter would copy
 * them out again: a profile under load put that at about a tenth of the gateway's CPU. A header
 * the handler sets itself wins (Hono's secureHeaders would overwrite it; no route sets one of
 * these). In-process requests (`app.request()` in tests) get the same headers on the Response.
 */
export function responseHeaders(): MiddlewareHandler<{
  Bindings: Partial<HttpBindings>;
  Variables: { requestId: string };
}> {
  return async (c, next) => {
    const id = randomUUID();
    c.set("requestId", id);
    const outgoing = c.env?.outgoing;
    if (outgoing) {
      for (const [name, value] of SECURITY_HEADERS) outgoing.setHeader(name, value);
      outgoing.setHeader(REQUEST_ID_HEADER, id);
      return next();
    }
    await next();
    for (const [name, value] of SECURITY_HEADERS) c.header(name, value);
    c.header(REQUEST_ID_HEADER, id);
  };
}

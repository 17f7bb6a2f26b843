import type { HttpBindings } from "@hono/node-server";
import { type Context, Hono } from "hono";
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

/** The request id header: always our own id (see everyRequest). */
export const REQUEST_ID_HEADER = "X-Request-Id";

/**
 * Served by @hono/node-server, the security headers and the request id go straight onto Node's
 * response (`c.env.outgoing`) before the handler runs; Node merges them with the handler's own
 * when it writes the head. Hono would otherwise keep them in a WHATWG `Headers` object, validated
 * header by header, and the adapter would copy them out again: a profile under load put that at
 * about a tenth of the gateway's CPU. A header the handler sets itself wins (Hono's secureHeaders
 * would overwrite it; no route sets one of these). An in-process request (`app.request()` in
 * tests) has no Node response: it gets them from `setOnResponse` once the handler answered.
 */
export function setOnNodeResponse(outgoing: HttpBindings["outgoing"], requestId: string): void {
  for (const [name, value] of SECURITY_HEADERS) outgoing.setHeader(name, value);
  outgoing.setHeader(REQUEST_ID_HEADER, requestId);
}

/** The same headers on hono's Response, for requests that have no Node response. */
export function setOnResponse(c: Context, requestId: string): void {
  for (const [name, value] of SECURITY_HEADERS) c.header(name, value);
  c.header(REQUEST_ID_HEADER, requestId);
}

/**
 * One response header a middleware or route adds: onto Node's response when there is one, like
 * the security headers above. `c.header()` would make hono build a WHATWG `Headers` and a full
 * `Response` with a stream body for an answer that is otherwise a plain object and a string; with
 * the per-key limit's three headers on every 202, a profile put that at about a tenth of the CPU
 * of a request. Node merges it with the handler's own headers (the handler's win) when it writes
 * the head, on success and error answers alike.
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (outgoing && !outgoing.headersSent) outgoing.setHeader(name, value);
  else c.header(name, value);
}

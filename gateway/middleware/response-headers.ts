import {
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  ServerResponse,
  validateHeaderName,
  validateHeaderValue,
} from "node:http";
import type { HttpBindings } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";

/**
 * The headers hono's `secureHeaders()` sets with its defaults (HSTS, nosniff, frame options...),
 * read once at start by running it: hono stays the owner of the list, and a request pays none of
 * its per-request work. Names in lower case, as `Headers` gives them.
 */
const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = await (async () => {
  const probe = new Hono().use(secureHeaders()).get("/", (c) => c.body(null));
  const response = await probe.request("/");
  return [...response.headers.entries()];
})();
const SECURITY_HEADER_RECORD: Readonly<Record<string, string>> =
  Object.fromEntries(SECURITY_HEADERS);

/** The request id header: always our own id (see everyRequest). */
export const REQUEST_ID_HEADER = "X-Request-Id";
const REQUEST_ID_NAME = REQUEST_ID_HEADER.toLowerCase();

/**
 * Node's response for the gateway's server (`serverOptions.ServerResponse` in server.ts): the
 * security headers, the request id and the headers middlewares added (`setResponseHeader`) go
 * out in the one `writeHead` that @hono/node-server makes with the handler's own headers, which
 * win over them. Set with `setHeader` one by one instead, each was validated, lower-cased and
 * stored on every response, and their presence sent Node down its slow path for the handler's
 * headers too: about a tenth of the gateway's allocations under load.
 */
export class GatewayResponse<
  Request extends IncomingMessage = IncomingMessage,
> extends ServerResponse<Request> {
  /** This request's id (everyRequest); until it is set, nothing is added. */
  requestId: string | undefined = undefined;
  /** Headers added by middlewares, by lower-case name. */
  added: Record<string, string> | undefined = undefined;

  override writeHead(
    statusCode: number,
    reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    maybeHeaders?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const reason = typeof reasonOrHeaders === "string" ? reasonOrHeaders : undefined;
    // As Node reads its arguments: headers in second place unless a status message is there.
    const own =
      typeof reasonOrHeaders === "string" ? maybeHeaders : (maybeHeaders ?? reasonOrHeaders);
    // A flat array of raw headers (no route sends one): the headers go on one by one.
    if (this.requestId !== undefined && Array.isArray(own)) {
      setOneByOne(this, this.requestId);
      for (const [name, value] of Object.entries(this.added ?? {})) this.setHeader(name, value);
    } else if (this.requestId !== undefined) {
      const handlers = own as OutgoingHttpHeaders | undefined;
      const headers: OutgoingHttpHeaders = {
        ...SECURITY_HEADER_RECORD,
        [REQUEST_ID_NAME]: this.requestId,
        ...this.added,
      };
      // Headers a handler set with setHeader (none on the gateway's own routes) win too: Node
      // would otherwise overwrite them with ours (lower-case names, as getHeaderNames gives).
      for (const name of this.getHeaderNames()) delete headers[name];
      for (const name in handlers) headers[name.toLowerCase()] = handlers[name];
      return reason === undefined
        ? super.writeHead(statusCode, headers)
        : super.writeHead(statusCode, reason, headers);
    }
    return reason === undefined
      ? super.writeHead(statusCode, own)
      : super.writeHead(statusCode, reason, own);
  }
}

/**
 * What every response gets: the security headers and the request id. On the gateway's own server
 * (GatewayResponse) they wait for its `writeHead`; on another Node server (tests that serve the
 * app with @hono/node-server's defaults) they go on with `setHeader` before the handler runs, and
 * Node merges them with the handler's own. An in-process request (`app.request()` in tests) has
 * no Node response: it gets them from `setOnResponse` once the handler answered. A header the
 * handler sets itself wins (Hono's secureHeaders would overwrite it; no route sets one of these).
 * Kept out of hono's WHATWG `Headers`: validated header by header and copied out again by the
 * adapter, a profile under load put that at about a tenth of the gateway's CPU.
 */
export function setOnNodeResponse(outgoing: HttpBindings["outgoing"], requestId: string): void {
  if (outgoing instanceof GatewayResponse) outgoing.requestId = requestId;
  else setOneByOne(outgoing, requestId);
}

function setOneByOne(outgoing: HttpBindings["outgoing"], requestId: string): void {
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
 * of a request. The handler's own headers win, on success and error answers alike.
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (outgoing instanceof GatewayResponse && !outgoing.headersSent) {
    // Checked here, as setHeader would: a bad value found only in writeHead would fail the
    // error answer's writeHead too.
    validateHeaderName(name);
    validateHeaderValue(name, value);
    outgoing.added ??= {};
    outgoing.added[name.toLowerCase()] = value;
  } else if (outgoing && !outgoing.headersSent) outgoing.setHeader(name, value);
  else c.header(name, value);
}

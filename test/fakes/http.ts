import { type ServerType, serve } from "@hono/node-server";
import type { Context, Hono } from "hono";

/** A canned answer a fake provider gives instead of its normal one. */
export interface ScriptedResponse {
  status: number;
  /** A JSON body, or a string sent as is with `contentType` (a proxy's HTML page, a problem+json). */
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Accept the message anyway before answering the error: a provider's ambiguous failure. */
  deliver?: boolean;
  /** Answer only after this long: longer than the client's timeout, it is a timeout. */
  delayMs?: number;
}

/**
 * Answers queued with `failNext` first, then whatever `failWith` returns (when set),
 * then the fake's normal success. Shared by the fake Resend and the fake Twilio.
 */
export class ResponseScript {
  private readonly queued: ScriptedResponse[] = [];
  /** Decides per request; return undefined for the normal answer. */
  failWith: (() => ScriptedResponse | undefined) | undefined;

  /** The next `times` calls get `response`. */
  failNext(response: ScriptedResponse, times = 1): void {
    for (let i = 0; i < times; i++) this.queued.push(response);
  }

  next(): ScriptedResponse | undefined {
    return this.queued.shift() ?? this.failWith?.();
  }
}

/** Sends a scripted answer, after its delay. */
export async function answerScripted(c: Context, scripted: ScriptedResponse): Promise<Response> {
  if (scripted.delayMs) await delay(scripted.delayMs);
  const headers = scripted.headers ?? {};
  if (typeof scripted.body === "string") {
    return c.body(scripted.body, scripted.status as 400, {
      "content-type": scripted.contentType ?? "text/html",
      ...headers,
    });
  }
  return c.json(scripted.body as object, scripted.status as 400, {
    ...(scripted.contentType ? { "content-type": scripted.contentType } : {}),
    ...headers,
  });
}

/** Serves a Hono app on a free loopback port. */
export async function listen(app: Hono): Promise<{ url: string; close(): Promise<void> }> {
  let server: ServerType | undefined;
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
      resolve(info.port),
    );
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

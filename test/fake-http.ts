import { type ServerType, serve } from "@hono/node-server";
import type { Hono } from "hono";

/** A canned answer a fake provider gives instead of its normal one. */
export interface ScriptedResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Accept the message anyway before answering the error: a provider's ambiguous failure. */
  deliver?: boolean;
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

import type { Context } from "hono";

export { listen } from "../support/listen.js";

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

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

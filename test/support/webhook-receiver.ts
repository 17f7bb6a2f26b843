import { Hono } from "hono";
import { listen } from "./listen.js";

/** A request a test endpoint received, kept raw: what a signature covers. */
export interface ReceivedRequest {
  path: string;
  /** The URL the sender used, as the endpoint saw it. */
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * An HTTP endpoint for tests of the fakes' webhooks: records every POST and answers `status`
 * (200 unless a test changes it), with `body`.
 */
export async function startWebhookReceiver() {
  const requests: ReceivedRequest[] = [];
  const state = { status: 200, body: "" };
  const app = new Hono();
  app.post("*", async (c) => {
    requests.push({
      path: c.req.path,
      url: c.req.url,
      headers: Object.fromEntries(c.req.raw.headers),
      body: await c.req.text(),
    });
    return c.body(state.body, state.status as 200);
  });
  const server = await listen(app);
  return { ...server, requests, state };
}

import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import { delay, listen, ResponseScript } from "./http.js";

/** An SMS the fake accepted. */
export interface FakeSms {
  sid: string;
  to: string;
  from: string;
  body: string;
  receivedAt: number;
}

/**
 * A stand-in for Twilio's Messages API, reached by the real `twilio` SDK through the worker's
 * rebasing HTTP client: `POST /2010-04-01/Accounts/{sid}/Messages.json` (form-encoded).
 */
export async function startFakeTwilio(
  options: { accountSid?: string; authToken?: string; latencyMs?: number } = {},
) {
  const accountSid = options.accountSid ?? `AC${"0".repeat(32)}`;
  const authToken = options.authToken ?? "twilio_test_token";
  const script = new ResponseScript();
  const calls: Array<{ to: string; at: number }> = [];
  /** Message list look-ups (the worker's check before re-sending an SMS). */
  const lookups: Array<{ to: string; at: number }> = [];
  const messages: FakeSms[] = [];
  const state = { latencyMs: options.latencyMs ?? 0 };
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;

  const app = new Hono();
  app.use("/2010-04-01/Accounts/:sid/*", async (c, next) => {
    if (c.req.header("authorization") !== expectedAuth || c.req.param("sid") !== accountSid) {
      return c.json({ code: 20003, message: "Authenticate", status: 401 }, 401);
    }
    await next();
  });
  // The list the SDK's messages.list() reads: filtered by To, one page.
  app.get("/2010-04-01/Accounts/:sid/Messages.json", (c) => {
    const to = c.req.query("To") ?? "";
    lookups.push({ to, at: Date.now() });
    // Newest first, one page of PageSize, as Twilio lists them.
    const pageSize = Number(c.req.query("PageSize") ?? 50);
    const found = messages
      .filter((message) => message.to === to)
      .slice(-pageSize)
      .reverse()
      .map((message) => messageJson(message));
    return c.json({
      messages: found,
      page: 0,
      page_size: pageSize,
      first_page_uri: c.req.path,
      next_page_uri: null,
      previous_page_uri: null,
      uri: c.req.path,
      start: 0,
      end: found.length,
    });
  });
  app.post("/2010-04-01/Accounts/:sid/Messages.json", async (c) => {
    const form = await c.req.parseBody();
    const to = String(form.To ?? "");
    calls.push({ to, at: Date.now() });
    const scripted = script.next();
    const message = {
      sid: `SM${randomBytes(16).toString("hex")}`,
      to,
      from: String(form.From ?? form.MessagingServiceSid ?? ""),
      body: String(form.Body ?? ""),
      receivedAt: Date.now(),
    };
    if (!scripted || scripted.deliver) messages.push(message);
    // Accepted first, answered late: a caller that gives up (or dies) meanwhile leaves the SMS sent.
    if (state.latencyMs > 0) await delay(state.latencyMs);
    if (scripted) {
      return c.json(scripted.body as object, scripted.status as 400, scripted.headers ?? {});
    }
    return c.json(messageJson(message), 201);
  });

  function messageJson(message: FakeSms) {
    return {
      sid: message.sid,
      account_sid: accountSid,
      to: message.to,
      from: message.from,
      body: message.body,
      status: "queued",
      date_created: new Date(message.receivedAt).toUTCString(),
      date_sent: new Date(message.receivedAt).toUTCString(),
      num_segments: "1",
      direction: "outbound-api",
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}.json`,
    };
  }

  const server = await listen(app);
  return { ...server, accountSid, authToken, script, calls, lookups, messages, state };
}

/** A Twilio error body as Twilio sends it. */
export function twilioError(status: number, code: number, message: string) {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

export type FakeTwilio = Awaited<ReturnType<typeof startFakeTwilio>>;

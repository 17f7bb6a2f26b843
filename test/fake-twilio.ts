import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import { delay, listen, ResponseScript } from "./fake-http.js";

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
  const messages: FakeSms[] = [];
  const state = { latencyMs: options.latencyMs ?? 0 };
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;

  const app = new Hono();
  app.post("/2010-04-01/Accounts/:sid/Messages.json", async (c) => {
    const form = await c.req.parseBody();
    const to = String(form.To ?? "");
    calls.push({ to, at: Date.now() });
    if (state.latencyMs > 0) await delay(state.latencyMs);
    if (c.req.header("authorization") !== expectedAuth || c.req.param("sid") !== accountSid) {
      return c.json({ code: 20003, message: "Authenticate", status: 401 }, 401);
    }
    const scripted = script.next();
    if (scripted) {
      return c.json(scripted.body as object, scripted.status as 400, scripted.headers ?? {});
    }
    const sid = `SM${randomBytes(16).toString("hex")}`;
    const from = String(form.From ?? form.MessagingServiceSid ?? "");
    const body = String(form.Body ?? "");
    messages.push({ sid, to, from, body, receivedAt: Date.now() });
    return c.json(
      {
        sid,
        account_sid: accountSid,
        to,
        from,
        body,
        status: "queued",
        date_created: new Date().toUTCString(),
        num_segments: "1",
        direction: "outbound-api",
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
      },
      201,
    );
  });

  const server = await listen(app);
  return { ...server, accountSid, authToken, script, calls, messages, state };
}

/** A Twilio error body as Twilio sends it. */
export function twilioError(status: number, code: number, message: string) {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

export type FakeTwilio = Awaited<ReturnType<typeof startFakeTwilio>>;

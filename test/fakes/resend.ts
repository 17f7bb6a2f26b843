import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { delay, listen, ResponseScript } from "./http.js";

/** An email the fake accepted. */
export interface FakeEmail {
  id: string;
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  idempotencyKey?: string;
  receivedAt: number;
}

/**
 * A stand-in for Resend's `POST /emails`, reached by the real `resend` SDK through its base URL.
 * It honours `Idempotency-Key` as Resend does: the same key and body answer the first email's
 * id without sending again; the same key with another body is a 409.
 */
export async function startFakeResend(options: { apiKey?: string; latencyMs?: number } = {}) {
  const apiKey = options.apiKey ?? "re_test_key";
  const script = new ResponseScript();
  /** Every call, accepted or not. */
  const calls: Array<{ idempotencyKey?: string; at: number }> = [];
  /** Emails accepted once each (what a recipient would get). */
  const emails: FakeEmail[] = [];
  const byKey = new Map<string, { id: string; body: string }>();
  const state = { latencyMs: options.latencyMs ?? 0 };

  const app = new Hono();
  app.post("/emails", async (c) => {
    const idempotencyKey = c.req.header("idempotency-key");
    calls.push({ idempotencyKey, at: Date.now() });
    if (c.req.header("authorization") !== `Bearer ${apiKey}`) {
      return c.json(
        { statusCode: 401, name: "invalid_api_key", message: "API key is invalid" },
        401,
      );
    }
    const scripted = script.next();
    if (scripted) {
      return c.json(scripted.body as object, scripted.status as 400, scripted.headers ?? {});
    }
    const raw = await c.req.text();
    if (idempotencyKey) {
      const seen = byKey.get(idempotencyKey);
      if (seen && seen.body !== raw) {
        return c.json(
          {
            statusCode: 409,
            name: "invalid_idempotent_request",
            message: "Same idempotency key used with a different request payload.",
          },
          409,
        );
      }
      if (seen) return c.json({ id: seen.id });
    }
    const body = JSON.parse(raw) as Omit<FakeEmail, "id" | "receivedAt">;
    const id = randomUUID();
    const to = Array.isArray(body.to) ? String(body.to[0]) : body.to;
    emails.push({ ...body, to, id, idempotencyKey, receivedAt: Date.now() });
    if (idempotencyKey) byKey.set(idempotencyKey, { id, body: raw });
    // Accepted first, answered late, as a real provider whose answer is slow to arrive.
    if (state.latencyMs > 0) await delay(state.latencyMs);
    return c.json({ id });
  });

  const server = await listen(app);
  return { ...server, apiKey, script, calls, emails, state };
}

export type FakeResend = Awaited<ReturnType<typeof startFakeResend>>;

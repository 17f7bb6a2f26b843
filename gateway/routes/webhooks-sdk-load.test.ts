/**
 * The provider SDKs are loaded by the first webhook that needs one (channels/*-webhook.ts). Here
 * both fail to load, as with a package missing from the image: that is the gateway's error, a 500
 * the provider retries, never a 401 that would tell it the signature was wrong.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTestQueue } from "../../test/fixtures.js";
import { gatewayOver, type TestGateway } from "../../test/gateway-fixture.js";

vi.mock("twilio", () => {
  throw new Error("Cannot find package 'twilio'");
});
vi.mock("resend", () => {
  throw new Error("Cannot find package 'resend'");
});

/** Any well-formed secret: the request never gets as far as its signature. */
const RESEND_SECRET = `whsec_${Buffer.from("a-secret-of-thirty-two-bytes-000").toString("base64")}`;

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.cleanup();
  gateway = undefined;
});

async function start(): Promise<TestGateway> {
  gateway = gatewayOver(await createTestQueue(), {
    webhooks: {
      resendSecret: RESEND_SECRET,
      twilioAuthToken: "twilio-auth-token-for-tests",
      publicUrl: "https://notify.example.com",
    },
  });
  return gateway;
}

/** A request each route would take as far as its signature check. */
const REQUESTS: Array<[string, string, () => RequestInit]> = [
  [
    "a Resend webhook",
    "/webhooks/resend",
    () => ({
      method: "POST",
      headers: {
        "content-type": "application/json",
        "svix-id": "msg_1",
        "svix-timestamp": String(Math.floor(Date.now() / 1000)),
        "svix-signature": "v1,c2lnbmF0dXJl",
      },
      body: "{}",
    }),
  ],
  [
    "a Twilio status callback",
    "/webhooks/twilio",
    () => ({
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": "c2lnbmF0dXJl",
      },
      body: "MessageSid=SM1&MessageStatus=delivered",
    }),
  ],
];

describe("a provider SDK that fails to load", () => {
  it.each(REQUESTS)("answers %s 500 in the error shape, on every try", async (_, path, init) => {
    const { app } = await start();
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await app.request(path, init());
      expect(response.status).toBe(500);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        "INTERNAL_SERVER_ERROR",
      );
    }
  });
});

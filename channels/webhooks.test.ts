import { describe, expect, it } from "vitest";
import { readInboundMessage, readTwilioStatus } from "./twilio-webhook.js";
import { buildWebhookAdapters, webhookWarnings } from "./webhooks.js";

const RESEND_SECRET = `whsec_${Buffer.from("a-secret-of-thirty-two-bytes-000").toString("base64")}`;

describe("the webhook registry", () => {
  it("builds only the webhooks whose secrets are set: none without them", () => {
    expect(buildWebhookAdapters({})).toEqual([]);
    expect(buildWebhookAdapters({ twilioAuthToken: "token" })).toEqual([]);
    const both = buildWebhookAdapters({
      resendSecret: RESEND_SECRET,
      twilioAuthToken: "token",
      publicUrl: "https://notify.example.com",
    });
    expect(both.map(({ provider, channel, paths }) => ({ provider, channel, paths }))).toEqual([
      { provider: "resend", channel: "email", paths: ["/webhooks/resend"] },
      {
        provider: "twilio",
        channel: "sms",
        paths: ["/webhooks/twilio", "/webhooks/twilio/inbound"],
      },
    ]);
  });

  it("warns when Twilio's token is set without PUBLIC_URL, and only then", () => {
    expect(webhookWarnings({ twilioAuthToken: "token" })).toEqual([
      expect.stringMatching(/^TWILIO_AUTH_TOKEN is set without PUBLIC_URL/),
    ]);
    expect(webhookWarnings({ twilioAuthToken: "token", publicUrl: "https://x.example" })).toEqual(
      [],
    );
  });

  it("refuses a request without its signature headers before loading an SDK", async () => {
    const [resend, twilio] = buildWebhookAdapters({
      resendSecret: RESEND_SECRET,
      twilioAuthToken: "token",
      publicUrl: "https://notify.example.com",
    });
    const unsigned = { path: "/webhooks/twilio", search: "", body: "", header: () => undefined };
    expect(await resend?.verifyWebhook(unsigned)).toEqual({
      ok: false,
      message: "Missing svix-id, svix-timestamp or svix-signature",
    });
    expect(await twilio?.verifyWebhook(unsigned)).toEqual({
      ok: false,
      message: "Missing X-Twilio-Signature",
    });
  });
});

describe("Twilio's events", () => {
  it("reads a status callback into a transition, and 21610 into the number's suppression", () => {
    const params = { MessageSid: "SM1", MessageStatus: "failed", ErrorCode: "21610", To: "+1202" };
    expect(readTwilioStatus(params, 1000)).toEqual({
      type: "status",
      providerId: "SM1",
      transition: {
        channel: "sms",
        at: 1000,
        source: "twilio",
        event: "failed",
        key: "twilio:SM1:failed",
        providerId: "SM1",
        status: "failed",
        code: "21610",
      },
      suppress: { recipients: ["+1202"], reason: "stop", code: "21610" },
    });
    expect(readTwilioStatus({ MessageSid: "SM1", MessageStatus: "received" }, 1000)).toBe(
      undefined,
    );
  });

  it("reads STOP and START from an incoming message, and leaves HELP to Twilio", () => {
    const from = { From: "+12025550143", MessageSid: "SM2" };
    expect(readInboundMessage({ ...from, Body: "stop" })).toEqual({
      type: "stop",
      recipient: "+12025550143",
      messageId: "SM2",
      code: "STOP",
    });
    expect(readInboundMessage({ ...from, Body: "arret", OptOutType: "STOP" })).toMatchObject({
      type: "stop",
      code: "OptOutType:STOP",
    });
    expect(readInboundMessage({ ...from, Body: "unstop" })).toMatchObject({ type: "start" });
    expect(readInboundMessage({ ...from, Body: "HELP" })).toBe(undefined);
  });
});

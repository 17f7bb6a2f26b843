import twilio from "twilio";
import { afterEach, describe, expect, it } from "vitest";
import { deliveryEventId } from "../contract/delivery-events.js";
import { type DeliveryHarness, startDeliveryHarness } from "../test/delivery-fixture.js";
import { eventually } from "../test/fixtures.js";
import { ADMIN_API_KEY } from "../test/gateway-fixture.js";
import { keywordOf } from "./twilio-webhook.js";

let delivery: DeliveryHarness;
let started: DeliveryHarness | undefined;
afterEach(async () => {
  await started?.stop();
  started = undefined;
});

async function start(options: Parameters<typeof startDeliveryHarness>[0] = {}) {
  delivery = await startDeliveryHarness(options);
  started = delivery;
  return delivery;
}

const PHONE = "+12025550143";

/** Deletes every key under `prefix` that has an expiry, as if every retention had run out. */
async function deleteExpiringKeys(prefix: string) {
  const keys = await delivery.redis.keys(`${prefix}*`);
  for (const key of keys) {
    if ((await delivery.redis.pttl(key)) > 0) await delivery.redis.del(key);
  }
}

/** Posts a form to a Twilio webhook path, signed for `signedUrl` (the real URL by default). */
async function postForm(
  path: string,
  params: Record<string, string>,
  options: { signedUrl?: string; authToken?: string; signature?: string | null } = {},
) {
  const url = `${delivery.url}${path}`;
  const signature =
    options.signature === undefined
      ? twilio.getExpectedTwilioSignature(
          options.authToken ?? delivery.twilio.authToken,
          options.signedUrl ?? url,
          params,
        )
      : options.signature;
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(signature === null ? {} : { "x-twilio-signature": signature }),
    },
    body: new URLSearchParams(params).toString(),
  });
}

describe("POST /webhooks/twilio (status callbacks)", () => {
  it("a delivered SMS ends delivered, and notification.delivered is published", async () => {
    await start();
    const id = await delivery.send({ to: undefined });
    const status = await delivery.waitForDelivery(id, { sms: "delivered" });
    const sid = status.channels.sms.providerId ?? "";
    await delivery.twilio.callbacksIdle();
    expect(delivery.twilio.callbacks.map((callback) => callback.status)).toEqual([200, 200]);
    expect(
      status.timeline?.filter((entry) => entry.source === "twilio").map((entry) => entry.event),
    ).toEqual(["sent", "delivered"]);
    expect(delivery.events.filter((event) => event.type === "notification.delivered")).toEqual([
      expect.objectContaining({ id: deliveryEventId("notification.delivered", id, "sms", sid) }),
    ]);
  });

  it("callbacks out of order (a multi-segment message's delivered before its sent) end delivered", async () => {
    await start();
    const id = await delivery.send({ to: undefined, order: `LONG-${"x".repeat(120)}` });
    await eventually(async () => {
      await delivery.twilio.callbacksIdle();
      const statuses = delivery.twilio.callbacks.map((callback) => callback.params.MessageStatus);
      expect(statuses).toEqual(["delivered", "sent"]);
    });
    const status = await delivery.statusOf(id);
    expect(status.channels.sms.delivery?.status).toBe("delivered");
    expect(
      status.timeline?.filter((entry) => entry.source === "twilio").map((entry) => entry.event),
    ).toEqual(["delivered", "sent"]);
  });

  it("undelivered with its ErrorCode, published as notification.failed", async () => {
    await start({ harness: { twilio: { undeliveredNumbers: { [PHONE]: 30003 } } } });
    const id = await delivery.send({ to: undefined });
    const status = await delivery.waitForDelivery(id, { sms: "undelivered" });
    await delivery.twilio.callbacksIdle();
    expect(status.channels.sms.delivery).toMatchObject({ status: "undelivered", code: "30003" });
    expect(delivery.events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: "notification.failed",
          data: expect.objectContaining({ code: "30003" }),
        }),
      ]),
    );
  });

  describe("changes nothing for", () => {
    async function deliveredSms() {
      await start();
      const id = await delivery.send({ to: undefined });
      const status = await delivery.waitForDelivery(id, { sms: "delivered" });
      await delivery.twilio.callbacksIdle();
      return { id, sid: status.channels.sms.providerId ?? "", before: await delivery.statusOf(id) };
    }

    function callback(sid: string, status: string, extra: Record<string, string> = {}) {
      return {
        AccountSid: delivery.twilio.accountSid,
        ApiVersion: "2010-04-01",
        From: "+15005550006",
        To: PHONE,
        MessageSid: sid,
        SmsSid: sid,
        MessageStatus: status,
        SmsStatus: status,
        ...extra,
      };
    }

    it("a forged signature, a missing one, another auth token, another URL: 401", async () => {
      const { id, sid, before } = await deliveredSms();
      const failed = callback(sid, "failed", { ErrorCode: "30008" });
      const cases = [
        await postForm("/webhooks/twilio", failed, { signature: "bm90LWEtc2lnbmF0dXJl" }),
        await postForm("/webhooks/twilio", failed, { signature: null }),
        await postForm("/webhooks/twilio", failed, { authToken: "another-accounts-token" }),
        // Signed for the URL Node sees behind a proxy, not the public one Twilio posts to.
        await postForm("/webhooks/twilio", failed, {
          signedUrl: `http://10.0.0.7:3000/webhooks/twilio`,
        }),
      ];
      for (const response of cases) {
        expect(response.status).toBe(401);
        expect(await response.json()).toMatchObject({ error: { code: "UNAUTHORIZED" } });
      }
      expect(await delivery.statusOf(id)).toEqual(before);
    });

    it("a replayed callback, and a late sent after delivered", async () => {
      const { id, sid, before } = await deliveredSms();
      const delivered = delivery.twilio.callbacks.find(
        (entry) => entry.params.MessageStatus === "delivered",
      );
      if (!delivered) throw new Error("no delivered callback");
      expect((await delivery.twilio.replayCallback(delivered)).status).toBe(200);
      expect(await delivery.statusOf(id)).toEqual(before);
      // A second `sent` receipt (another segment's): a new timeline entry is not made twice,
      // and the status stays delivered.
      expect((await delivery.twilio.postStatusCallback(sid, "sent")).status).toBe(200);
      expect(await delivery.statusOf(id)).toEqual(before);
      expect((await postForm("/webhooks/twilio", callback(sid, "queued"))).status).toBe(200);
      expect((await delivery.statusOf(id)).channels).toEqual(before.channels);
    });
  });

  it("ErrorCode 21610 for a message this deployment never sent is acknowledged and suppresses nothing", async () => {
    await start();
    const params = {
      AccountSid: delivery.twilio.accountSid,
      From: "+15005550006",
      To: PHONE,
      MessageSid: `SM${"7".repeat(32)}`,
      MessageStatus: "failed",
      ErrorCode: "21610",
    };
    const response = await postForm("/webhooks/twilio", params);
    expect(response.status).toBe(200);
    const list = (await (await delivery.admin("/suppressions")).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
    expect(delivery.events).toEqual([]);
  });

  it("ErrorCode 21610 in a callback suppresses the number", async () => {
    await start();
    const id = await delivery.send({ to: undefined });
    const status = await delivery.waitForDelivery(id, { sms: "delivered" });
    const sid = status.channels.sms.providerId ?? "";
    expect((await delivery.twilio.postStatusCallback(sid, "failed", 21610)).status).toBe(200);
    const after = await delivery.statusOf(id);
    expect(after.channels.sms.delivery).toMatchObject({ status: "failed", code: "21610" });
    const list = await delivery.admin("/suppressions?channel=sms");
    expect(await list.json()).toMatchObject({
      items: [
        { channel: "sms", recipient: PHONE, reason: "stop", code: "21610", notificationId: id },
      ],
    });
  });
});

describe("POST /webhooks/twilio/inbound (STOP and START)", () => {
  it("STOP suppresses the number (no Twilio call, status suppressed) and START lifts it", async () => {
    await start();
    const stop = await delivery.twilio.receiveSms(PHONE, "STOP");
    expect(stop.status).toBe(200);
    expect(stop.responseBody).toContain("<Response></Response>");
    expect(delivery.events).toEqual([
      expect.objectContaining({
        type: "recipient.suppressed",
        data: expect.objectContaining({ channel: "sms", recipient: PHONE, reason: "stop" }),
      }),
    ]);

    const callsBefore = delivery.twilio.calls.length;
    const skipped = await delivery.send();
    const status = await eventually(async () => {
      const current = await delivery.statusOf(skipped);
      expect(current.status).toBe("completed");
      return current;
    });
    expect(status.channels.sms).toMatchObject({ status: "suppressed", calls: 0 });
    expect(status.channels.email.status).toBe("sent");
    expect(delivery.twilio.calls.length).toBe(callsBefore);

    expect((await delivery.twilio.receiveSms(PHONE, "start")).status).toBe(200);
    const list = (await (await delivery.admin("/suppressions")).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
    const sent = await delivery.send({ to: undefined });
    await delivery.waitForDelivery(sent, { sms: "delivered" });
    expect(delivery.twilio.calls.length).toBe(callsBefore + 1);
  });

  it("a replayed STOP after START does not suppress again", async () => {
    await start();
    const stop = await delivery.twilio.receiveSms(PHONE, "STOP");
    await delivery.twilio.receiveSms(PHONE, "START");
    expect((await delivery.twilio.replayCallback(stop)).status).toBe(200);
    const list = (await (await delivery.admin("/suppressions")).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
  });

  it("a START replayed after every expiring key is gone does not lift a later STOP", async () => {
    await start();
    const startMessage = await delivery.twilio.receiveSms(PHONE, "START");
    await delivery.twilio.receiveSms(PHONE, "STOP");
    // Twilio signs no timestamp: a captured START can come back after any retention has run out.
    await deleteExpiringKeys(`${delivery.prefix}:`);
    expect((await delivery.twilio.replayCallback(startMessage)).status).toBe(200);
    const list = (await (await delivery.admin("/suppressions")).json()) as { items: unknown[] };
    expect(list.items).toEqual([
      {
        channel: "sms",
        recipient: PHONE,
        reason: "stop",
        code: "OptOutType:STOP",
        source: "twilio",
        suppressedAt: expect.any(String),
      },
    ]);
  });

  it("remembers the last 100 applied messages of a number, in one hash field without expiry", async () => {
    await start();
    const sids = Array.from({ length: 102 }, (_, index) => `SM${String(index).padStart(32, "0")}`);
    for (const [index, sid] of sids.entries()) {
      const params = {
        MessageSid: sid,
        From: PHONE,
        To: "+15005550006",
        Body: index % 2 === 0 ? "STOP" : "START",
      };
      expect((await postForm("/webhooks/twilio/inbound", params)).status).toBe(200);
    }
    const key = `${delivery.prefix}:notifications:sms-inbound-applied`;
    expect(await delivery.redis.hkeys(key)).toEqual([PHONE]);
    expect((await delivery.redis.hget(key, PHONE))?.split(" ")).toEqual(sids.slice(2));
    expect(await delivery.redis.ttl(key)).toBe(-1);
    // The last was a START: replaying the newest STOP changes nothing.
    const stop = { MessageSid: sids[100] ?? "", From: PHONE, To: "+15005550006", Body: "STOP" };
    expect((await postForm("/webhooks/twilio/inbound", stop)).status).toBe(200);
    const list = (await (await delivery.admin("/suppressions")).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
  });

  it("a forged STOP is a 401 and suppresses nothing", async () => {
    await start();
    const response = await postForm(
      "/webhooks/twilio/inbound",
      { MessageSid: `SM${"1".repeat(32)}`, From: PHONE, To: "+15005550006", Body: "STOP" },
      { authToken: "not-our-token" },
    );
    expect(response.status).toBe(401);
    const list = await delivery.app.request("/suppressions", {
      headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
    });
    expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it("reads OptOutType, else the body against Twilio's default keywords", () => {
    expect(keywordOf({ OptOutType: "STOP", Body: "arret" })).toBe("STOP");
    expect(keywordOf({ Body: " unsubscribe " })).toBe("STOP");
    expect(keywordOf({ Body: "Yes" })).toBe("START");
    expect(keywordOf({ Body: "stop sending me these" })).toBeUndefined();
  });

  it("Twilio's 21610 at send suppresses the number; the next notification makes no call", async () => {
    await start();
    delivery.twilio.optOut(PHONE);
    const refused = await delivery.send({ to: undefined });
    await eventually(async () => {
      const status = await delivery.statusOf(refused);
      expect(status.status).toBe("failed");
      expect(status.channels.sms).toMatchObject({ status: "failed", error: { code: "21610" } });
    });
    const calls = delivery.twilio.calls.length;
    const next = await delivery.send({ to: undefined });
    await eventually(async () => {
      const status = await delivery.statusOf(next);
      expect(status.channels.sms.status).toBe("suppressed");
    });
    expect(delivery.twilio.calls.length).toBe(calls);
  });
});

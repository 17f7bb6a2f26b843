import twilio from "twilio";
import TwilioServiceExceptionModule from "twilio/lib/base/TwilioServiceException.js";
import { afterEach, describe, expect, it } from "vitest";
import { RebasedRequestClient } from "../../channels/twilio-sms.js";
import { type ReceivedRequest, startWebhookReceiver } from "../support/webhook-receiver.js";
import {
  type FakeTwilio,
  type FakeTwilioOptions,
  INBOUND_MESSAGING_SERVICE_SID,
  MESSAGING_SERVICE_POOL_NUMBER,
  segmentsOf,
  startFakeTwilio,
  TWILIO_TEST_FROM,
  twilioError,
  twilioProblem,
} from "./twilio.js";

/**
 * Node's own ESM loader hands this CommonJS module's `module.exports` (`{ default: class }`) to a
 * default import, while vitest hands the class itself: take whichever arrived.
 */
const TwilioServiceException =
  (TwilioServiceExceptionModule as unknown as { default?: typeof TwilioServiceExceptionModule })
    .default ?? TwilioServiceExceptionModule;

const TO = "+12025550143";
const SERVICE = `MG${"a".repeat(32)}`;
/** 2024-05-02 10:00:00 GMT: the fake's clock in most tests. */
const T0 = Date.UTC(2024, 4, 2, 10, 0, 0);

function sdkFor(
  fake: FakeTwilio,
  options: { timeoutMs?: number; authToken?: string; accountSid?: string } = {},
) {
  const timeoutMs = options.timeoutMs ?? 5000;
  return twilio(fake.accountSid, options.authToken ?? fake.authToken, {
    timeout: timeoutMs,
    ...(options.accountSid ? { accountSid: options.accountSid } : {}),
    httpClient: new RebasedRequestClient(fake.url, timeoutMs),
  });
}

const started: FakeTwilio[] = [];
/** The fakes' clock in tests that set it. */
let now = T0;

async function start(options: FakeTwilioOptions = {}, clock = true) {
  now = T0;
  const fake = await startFakeTwilio({ ...(clock ? { now: () => now } : {}), ...options });
  started.push(fake);
  return { fake, sdk: sdkFor(fake) };
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

/** The error a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error("expected a rejection");
}

/** Seconds precision, as Twilio's RFC 2822 dates carry. */
function date(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

describe("queued messages leave at the sender's pace", () => {
  it("answers queued with no date_sent, then sends one segment per second per sender", async () => {
    const { fake, sdk } = await start({ sendRatePerSecond: 1 });
    const created = [];
    for (const body of ["one", "two", "three"]) {
      created.push(await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body }));
    }
    expect(created.map((message) => [message.status, message.dateSent])).toEqual([
      ["queued", null],
      ["queued", null],
      ["queued", null],
    ]);
    expect(created[0]?.dateCreated).toEqual(new Date(T0));
    expect(created[0]?.numSegments).toBe("1");
    expect(created[0]?.direction).toBe("outbound-api");
    expect(created[0]?.from).toBe(TWILIO_TEST_FROM);
    expect(created[0]?.messagingServiceSid).toBeNull();
    const sids = created.map((message) => message.sid);

    const fetchAll = () => Promise.all(sids.map((sid) => sdk.messages(sid).fetch()));
    now = T0 + 999;
    expect((await fetchAll()).map((message) => message.status)).toEqual([
      "queued",
      "queued",
      "queued",
    ]);
    now = T0 + 1000;
    let fetched = await fetchAll();
    expect(fetched.map((message) => [message.status, message.dateSent])).toEqual([
      ["sent", date(T0 + 1000)],
      ["queued", null],
      ["queued", null],
    ]);
    now = T0 + 3000;
    fetched = await fetchAll();
    expect(fetched.map((message) => [message.status, message.dateSent])).toEqual([
      ["sent", date(T0 + 1000)],
      ["sent", date(T0 + 2000)],
      ["sent", date(T0 + 3000)],
    ]);
    expect(fetched[2]?.dateUpdated).toEqual(date(T0 + 3000));
    expect(fake.status(sids[2] ?? "")).toBe("sent");
  });

  it("keeps one queue per sender", async () => {
    const { fake, sdk } = await start({ sendRatePerSecond: 1, ownedNumbers: ["+14155550100"] });
    const first = await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "a" });
    const second = await sdk.messages.create({ to: TO, from: "+14155550100", body: "b" });
    const third = await sdk.messages.create({ to: TO, messagingServiceSid: SERVICE, body: "c" });
    now = T0 + 1000;
    expect([first, second, third].map((message) => fake.status(message.sid))).toEqual([
      "sent",
      "sent",
      "sent",
    ]);
  });

  it("counts segments: a three-segment message takes three seconds at 1 MPS", async () => {
    const { fake, sdk } = await start({ sendRatePerSecond: 1 });
    const long = await sdk.messages.create({
      to: TO,
      from: TWILIO_TEST_FROM,
      body: "x".repeat(307),
    });
    const short = await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "y" });
    expect(long.numSegments).toBe("3");
    now = T0 + 2999;
    expect([fake.status(long.sid), fake.status(short.sid)]).toEqual(["queued", "queued"]);
    now = T0 + 3000;
    expect([fake.status(long.sid), fake.status(short.sid)]).toEqual(["sent", "queued"]);
    now = T0 + 4000;
    expect(fake.status(short.sid)).toBe("sent");
  });

  it("turns delivered after the delivery delay when asked to", async () => {
    const { fake, sdk } = await start({ sendRatePerSecond: 1, deliveryDelayMs: 500 });
    const sent = await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "hi" });
    now = T0 + 1499;
    expect(fake.status(sent.sid)).toBe("sent");
    now = T0 + 1500;
    const fetched = await sdk.messages(sent.sid).fetch();
    expect([fetched.status, fetched.dateSent, fetched.dateUpdated]).toEqual([
      "delivered",
      date(T0 + 1000),
      date(T0 + 1500),
    ]);
  });

  it("paces in real time without a test clock", async () => {
    const { fake, sdk } = await start({ sendRatePerSecond: 5 }, false);
    const first = await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "1" });
    const second = await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "2" });
    expect(fake.status(second.sid)).toBe("queued");
    await expect.poll(() => fake.status(first.sid), { timeout: 2000 }).toBe("sent");
    await expect.poll(() => fake.status(second.sid), { timeout: 2000 }).toBe("sent");
    const [a, b] = fake.messages;
    expect((b?.sentAt ?? 0) - (a?.sentAt ?? 0)).toBeGreaterThanOrEqual(200);
  });
});

describe("the message list", () => {
  it("filters DateSent by GMT day, and never matches a queued message", async () => {
    const { fake, sdk } = await start();
    now = Date.UTC(2024, 4, 1, 23, 0, 0);
    const dayOne = await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "day one" });
    now = Date.UTC(2024, 4, 2, 9, 0, 0);
    const sentToday = await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "9h" });
    now = Date.UTC(2024, 4, 2, 9, 0, 1);
    const queued = await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "queued" });
    expect(fake.status(queued.sid)).toBe("queued");
    const sids = async (filters: Parameters<typeof sdk.messages.list>[0]) =>
      (await sdk.messages.list(filters)).map((message) => message.sid);

    // After 12:00 on May 2 still finds the 09:00 message: only the day counts.
    expect(await sids({ to: TO, dateSentAfter: new Date(Date.UTC(2024, 4, 2, 12, 0)) })).toEqual([
      sentToday.sid,
    ]);
    expect(fake.lookups.at(-1)?.params["DateSent>"]).toBe("2024-05-02T12:00:00Z");
    // On or after May 1 (any time of it): both sent messages, never the queued one.
    expect(await sids({ dateSentAfter: new Date(Date.UTC(2024, 4, 1, 23, 59)) })).toEqual([
      sentToday.sid,
      dayOne.sid,
    ]);
    // Before 00:00:01 on May 1 still takes the whole of May 1.
    expect(await sids({ dateSentBefore: new Date(Date.UTC(2024, 4, 1, 0, 0, 1)) })).toEqual([
      dayOne.sid,
    ]);
    expect(await sids({ dateSent: new Date(Date.UTC(2024, 4, 2, 18, 30)) })).toEqual([
      sentToday.sid,
    ]);
    // No filter: the queued message first, then newest sent first.
    expect(await sids({})).toEqual([queued.sid, sentToday.sid, dayOne.sid]);
    expect(await sids({ to: "+12025550199" })).toEqual([]);
    expect(await sids({ from: "+14155550100" })).toEqual([]);
  });

  it("answers 20001 to a DateSent it cannot read", async () => {
    const { fake } = await start();
    const response = await fetch(
      `${fake.url}/2010-04-01/Accounts/${fake.accountSid}/Messages.json?DateSent=%3E%3D2019-08-08`,
      { headers: { authorization: basicAuth(fake) } },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code: 20001,
      message: "Invalid date value.",
      more_info: "https://www.twilio.com/docs/errors/20001",
      status: 400,
    });
  });

  it("lists newest first and pages: 120 messages in pages of 50", async () => {
    const { fake, sdk } = await start();
    const created: string[] = [];
    for (let i = 0; i < 120; i++) {
      now = T0 + i * 1000;
      created.push(
        (await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: `${i}` })).sid,
      );
    }
    now = T0 + 200_000;
    const newestFirst = [...created].reverse();

    const all = await sdk.messages.list({ limit: 1000, pageSize: 50 });
    expect(all.map((message) => message.sid)).toEqual(newestFirst);
    expect(fake.lookups).toHaveLength(3);
    expect(fake.lookups.map((lookup) => lookup.params.Page)).toEqual([undefined, "1", "2"]);
    expect(fake.lookups[1]?.params.PageToken).toBe(`PA${newestFirst[49]}`);

    const seen: string[] = [];
    await sdk.messages.each({ pageSize: 50, limit: 70 }, (message) => {
      seen.push(message.sid);
    });
    expect(seen).toEqual(newestFirst.slice(0, 70));

    const first = await sdk.messages.page({ pageSize: 50 });
    expect(first.instances.map((message) => message.sid)).toEqual(newestFirst.slice(0, 50));
    const second = await first.nextPage();
    expect(second?.instances.map((message) => message.sid)).toEqual(newestFirst.slice(50, 100));
    const third = await second?.nextPage();
    expect(third?.instances.map((message) => message.sid)).toEqual(newestFirst.slice(100));
    expect(third?.nextPageUrl).toBeUndefined();
    expect(await third?.nextPage()).toBeUndefined();
    const back = await third?.previousPage();
    expect(back?.instances.map((message) => message.sid)).toEqual(newestFirst.slice(50, 100));
  });

  it("writes the paging fields as Twilio does", async () => {
    const { fake, sdk } = await start();
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      now = T0 + i * 1000;
      created.push(
        (await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: `${i}` })).sid,
      );
    }
    now = T0 + 10_000;
    const base = `/2010-04-01/Accounts/${fake.accountSid}/Messages.json`;
    const filters = "To=%2B12025550143&DateSent%3E=2024-05-02T00%3A00%3A00Z";
    const get = async (query: string) =>
      (
        await fetch(`${fake.url}${base}?${query}`, { headers: { authorization: basicAuth(fake) } })
      ).json() as Promise<Record<string, unknown>>;
    const page0 = await get(`${filters}&PageSize=2`);
    expect({ ...page0, messages: undefined }).toEqual({
      end: 1,
      first_page_uri: `${base}?${filters}&PageSize=2&Page=0`,
      messages: undefined,
      next_page_uri: `${base}?${filters}&PageSize=2&Page=1&PageToken=PA${created[1]}`,
      page: 0,
      page_size: 2,
      previous_page_uri: null,
      start: 0,
      uri: `${base}?${filters}&PageSize=2&Page=0`,
    });
    const page1 = await get(`${filters}&PageSize=2&Page=1&PageToken=PA${created[1]}`);
    expect({ ...page1, messages: undefined }).toEqual({
      end: 2,
      first_page_uri: `${base}?${filters}&PageSize=2&Page=0`,
      messages: undefined,
      next_page_uri: null,
      page: 1,
      page_size: 2,
      previous_page_uri: `${base}?${filters}&PageSize=2&Page=0&PageToken=PB${created[0]}`,
      start: 2,
      uri: `${base}?${filters}&PageSize=2&Page=1&PageToken=PA${created[1]}`,
    });
    expect((page1.messages as Array<{ sid: string }>).map((message) => message.sid)).toEqual([
      created[0],
    ]);
    // PageSize above 1000 is held to 1000; no PageSize is 50.
    expect((await get("PageSize=5000")).page_size).toBe(1000);
    expect((await get("")).page_size).toBe(50);
  });

  it("fetches one message, and answers 20404 to an unknown one", async () => {
    const { fake, sdk } = await start();
    const sent = await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "hello" });
    now = T0 + 1;
    const fetched = await sdk.messages(sent.sid).fetch();
    expect(fetched.toJSON()).toMatchObject({
      sid: sent.sid,
      accountSid: fake.accountSid,
      apiVersion: "2010-04-01",
      body: "hello",
      status: "sent",
      to: TO,
      from: TWILIO_TEST_FROM,
      numMedia: "0",
      numSegments: "1",
      errorCode: null,
      errorMessage: null,
      uri: `/2010-04-01/Accounts/${fake.accountSid}/Messages/${sent.sid}.json`,
    });
    const unknown = `SM${"f".repeat(32)}`;
    const error = await rejection(sdk.messages(unknown).fetch());
    expect(error).toBeInstanceOf(twilio.RestException);
    expect([error.status, error.code, error.message, error.moreInfo]).toEqual([
      404,
      20404,
      `The requested resource /2010-04-01/Accounts/${fake.accountSid}/Messages/${unknown}.json was not found`,
      "https://www.twilio.com/docs/errors/20404",
    ]);
  });
});

describe("senders and segments", () => {
  it("sends through a Messaging Service: accepted, then queued from the pool number", async () => {
    const { fake, sdk } = await start({ sendRatePerSecond: 1 });
    const created = await sdk.messages.create({ to: TO, messagingServiceSid: SERVICE, body: "hi" });
    expect([created.status, created.from, created.messagingServiceSid, created.dateSent]).toEqual([
      "accepted",
      null,
      SERVICE,
      null,
    ]);
    let fetched = await sdk.messages(created.sid).fetch();
    expect([fetched.status, fetched.from]).toEqual(["queued", MESSAGING_SERVICE_POOL_NUMBER]);
    now = T0 + 1000;
    fetched = await sdk.messages(created.sid).fetch();
    expect([fetched.status, fetched.from, fetched.messagingServiceSid]).toEqual([
      "sent",
      MESSAGING_SERVICE_POOL_NUMBER,
      SERVICE,
    ]);
    expect(fake.messages[0]).toMatchObject({ from: MESSAGING_SERVICE_POOL_NUMBER });
    // A Messaging Service SID in From works the same.
    const viaFrom = await sdk.messages.create({ to: TO, from: SERVICE, body: "hi" });
    expect([viaFrom.status, viaFrom.messagingServiceSid]).toEqual(["accepted", SERVICE]);
    const bad = await rejection(
      sdk.messages.create({ to: TO, messagingServiceSid: "MG123", body: "x" }),
    );
    expect([bad.status, bad.code]).toEqual([400, 21705]);
  });

  it("counts GSM-7 and UCS-2 segments", async () => {
    const { sdk } = await start();
    const segments = async (body: string) =>
      (await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body })).numSegments;
    expect(await segments("a".repeat(160))).toBe("1");
    expect(await segments("a".repeat(161))).toBe("2");
    expect(await segments("ж".repeat(70))).toBe("1");
    expect(await segments("ж".repeat(71))).toBe("2");
    expect([
      segmentsOf("a".repeat(306)),
      segmentsOf("a".repeat(307)),
      segmentsOf("€".repeat(80)),
      segmentsOf("€".repeat(81)),
      segmentsOf(`${"a".repeat(159)}é`),
      segmentsOf(`${"a".repeat(69)}😀`),
      segmentsOf("ж".repeat(134)),
      segmentsOf("ж".repeat(135)),
    ]).toEqual([2, 3, 1, 2, 1, 2, 2, 3]);
  });
});

describe("errors, as the SDK throws them", () => {
  it("throws RestException for Twilio's classic JSON error", async () => {
    const { fake, sdk } = await start();
    fake.script.failNext(twilioError(503, 20503, "Service Unavailable"));
    const error = await rejection(
      sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "x" }),
    );
    expect(error).toBeInstanceOf(twilio.RestException);
    expect(error).not.toBeInstanceOf(TwilioServiceException);
    expect([error.status, error.code, error.message, error.moreInfo]).toEqual([
      503,
      20503,
      "Service Unavailable",
      "https://www.twilio.com/docs/errors/20503",
    ]);
    expect(fake.calls).toHaveLength(1);
    expect(fake.messages).toHaveLength(0);
  });

  it("throws TwilioServiceException for an RFC 9457 problem", async () => {
    const { fake, sdk } = await start();
    fake.script.failNext(twilioProblem(429, 20429, "Too many requests", { instance: "/req/1" }));
    const error = await rejection(
      sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "x" }),
    );
    expect(error).toBeInstanceOf(TwilioServiceException);
    expect(error).not.toBeInstanceOf(twilio.RestException);
    expect({ ...error }).toEqual({
      type: "https://www.twilio.com/docs/api/errors/20429",
      title: "Too Many Requests",
      status: 429,
      code: 20429,
      detail: "Too many requests",
      instance: "/req/1",
    });
    expect(error.message).toBe("[HTTP 429] Too Many Requests");
    // Sent as application/problem+json.
    fake.script.failNext(twilioProblem(400, 21211, "bad"));
    const response = await fetch(
      `${fake.url}/2010-04-01/Accounts/${fake.accountSid}/Messages.json`,
      {
        method: "POST",
        headers: {
          authorization: basicAuth(fake),
          "content-type": "application/x-www-form-urlencoded",
        },
        body: "To=%2B12025550143&From=%2B15005550006&Body=x",
      },
    );
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });

  it("answers 401 20003 to wrong credentials and to another account's path", async () => {
    const { fake } = await start();
    const wrongToken = sdkFor(fake, { authToken: "nope" });
    let error = await rejection(
      wrongToken.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "x" }),
    );
    expect(error).toBeInstanceOf(twilio.RestException);
    expect([error.status, error.code, error.message]).toEqual([401, 20003, "Authenticate"]);
    const otherAccount = sdkFor(fake, { accountSid: `AC${"1".repeat(32)}` });
    error = await rejection(otherAccount.messages.list({ limit: 1 }));
    expect(error).toBeInstanceOf(twilio.RestException);
    expect([error.status, error.code]).toEqual([401, 20003]);
    expect(fake.calls).toHaveLength(0);
    expect(fake.lookups).toHaveLength(0);
  });

  it("refuses what Twilio refuses, itself", async () => {
    const { fake, sdk } = await start();
    const refusal = async (params: { to: string; from?: string; body: string }) => {
      const error = await rejection(sdk.messages.create({ from: TWILIO_TEST_FROM, ...params }));
      expect(error).toBeInstanceOf(twilio.RestException);
      return [error.status, error.code, error.message];
    };
    expect(await refusal({ to: "202-555-0143", body: "x" })).toEqual([
      400,
      21211,
      "The 'To' number 202-555-0143 is not a valid phone number.",
    ]);
    expect((await refusal({ to: "+1202555014", body: "x" }))[1]).toBe(21211);
    expect((await refusal({ to: "+15005550001", body: "x" }))[1]).toBe(21211);
    expect((await refusal({ to: TO, from: "+15005550001", body: "x" }))[1]).toBe(21212);
    expect(await refusal({ to: TO, from: "+14155550100", body: "x" })).toEqual([
      400,
      21606,
      "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account",
    ]);
    expect(await refusal({ to: TO, body: "a".repeat(1601) })).toEqual([
      400,
      21617,
      "The concatenated message body exceeds the 1600 character limit",
    ]);
    expect((await refusal({ to: TO, body: "😀".repeat(801) }))[1]).toBe(21617);
    expect((await refusal({ to: TO, body: "" }))[1]).toBe(21602);
    expect((await refusal({ to: "+15005550009", body: "x" }))[1]).toBe(21614);
    expect(fake.calls).toHaveLength(9);
    expect(fake.messages).toHaveLength(0);
    // 1,600 characters exactly is fine.
    const longest = await sdk.messages.create({
      to: TO,
      from: TWILIO_TEST_FROM,
      body: "a".repeat(1600),
    });
    expect(longest.numSegments).toBe("11");
  });

  it("answers 21611 when the sender's queue is full, and takes more once it drains", async () => {
    const { fake, sdk } = await start({ sendRatePerSecond: 1, maxQueuedPerSender: 2 });
    await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "1" });
    await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "2" });
    const error = await rejection(
      sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "3" }),
    );
    expect(error).toBeInstanceOf(twilio.RestException);
    expect([error.status, error.code, error.message]).toEqual([
      400,
      21611,
      "This 'From' number has exceeded the maximum number of queued messages",
    ]);
    expect(fake.messages).toHaveLength(2);
    now = T0 + 1000;
    const later = await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "3" });
    expect(later.status).toBe("queued");
    now = T0 + 2000;
    // Queued behind the second message: it leaves at 3 s, not at 2 s.
    expect(fake.status(later.sid)).toBe("queued");
    now = T0 + 3000;
    expect(fake.status(later.sid)).toBe("sent");
    // Test number +15005550008: always full.
    const magic = await start({ ownedNumbers: ["+15005550008"] });
    const full = await rejection(
      magic.sdk.messages.create({ to: TO, from: "+15005550008", body: "x" }),
    );
    expect(full.code).toBe(21611);
  });

  it("fails a Messaging Service's overflow after creation with 30001", async () => {
    const { fake, sdk } = await start({ sendRatePerSecond: 1, maxQueuedPerSender: 1 });
    await sdk.messages.create({ to: TO, messagingServiceSid: SERVICE, body: "1" });
    const overflow = await sdk.messages.create({ to: TO, messagingServiceSid: SERVICE, body: "2" });
    expect(overflow.status).toBe("accepted");
    const fetched = await sdk.messages(overflow.sid).fetch();
    expect([fetched.status, fetched.errorCode, fetched.errorMessage, fetched.dateSent]).toEqual([
      "failed",
      30001,
      "Queue overflow",
      null,
    ]);
    expect(fake.messages.map((message) => message.body)).toEqual(["1"]);
  });

  it("answers 21610 to a number that replied STOP, until it replies START", async () => {
    const { fake, sdk } = await start();
    fake.optOut(TO);
    const error = await rejection(
      sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "x" }),
    );
    expect(error).toBeInstanceOf(twilio.RestException);
    expect([error.status, error.code, error.message]).toEqual([
      400,
      21610,
      "Attempt to send to unsubscribed recipient",
    ]);
    fake.optIn(TO);
    await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "x" });
    // Opted out of a Messaging Service only: its sends fail, the From number's do not.
    fake.optOut(TO, SERVICE);
    const viaService = await rejection(
      sdk.messages.create({ to: TO, messagingServiceSid: SERVICE, body: "x" }),
    );
    expect(viaService.code).toBe(21610);
    await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "y" });
    // The test number +15005550004 is blocked.
    expect(
      (
        await rejection(
          sdk.messages.create({ to: "+15005550004", from: TWILIO_TEST_FROM, body: "x" }),
        )
      ).code,
    ).toBe(21610);
    expect(fake.messages.map((message) => message.body)).toEqual(["x", "y"]);
  });
});

describe("ambiguous failures leave the SMS sent", () => {
  it("deliver: true accepts the message, then answers the error", async () => {
    const { fake, sdk } = await start();
    fake.script.failNext({ ...twilioError(500, 20500, "Internal Server Error"), deliver: true });
    const error = await rejection(
      sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "x" }),
    );
    expect(error).toBeInstanceOf(twilio.RestException);
    expect([error.status, error.code]).toEqual([500, 20500]);
    expect(fake.messages).toHaveLength(1);
    now = T0 + 1;
    const listed = await sdk.messages.list({ to: TO });
    expect(listed.map((message) => [message.sid, message.status])).toEqual([
      [fake.messages[0]?.sid, "sent"],
    ]);
  });

  it("an answer delayed past the SDK's timeout leaves the message accepted", async () => {
    const { fake } = await start({}, false);
    const impatient = sdkFor(fake, { timeoutMs: 200 });
    fake.script.failNext({ status: 201, body: {}, deliver: true, delayMs: 1000 });
    const error = await rejection(
      impatient.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "x" }),
    );
    expect(error).not.toBeInstanceOf(twilio.RestException);
    expect(error.code).toBe("ECONNABORTED");
    expect(fake.messages).toHaveLength(1);
    // Slow Twilio (latencyMs): accepted before the late answer too.
    fake.state.latencyMs = 1000;
    const late = await rejection(
      impatient.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "y" }),
    );
    expect(late.code).toBe("ECONNABORTED");
    expect(fake.messages.map((message) => message.body)).toEqual(["x", "y"]);
    // A delayed error without deliver: nothing accepted.
    fake.state.latencyMs = 0;
    fake.script.failNext({ ...twilioError(503, 20503, "Service Unavailable"), delayMs: 1000 });
    await rejection(impatient.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "z" }));
    expect(fake.messages).toHaveLength(2);
    expect(fake.calls).toHaveLength(3);
  });
});

function basicAuth(fake: FakeTwilio): string {
  return `Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString("base64")}`;
}

describe("webhooks, signed as Twilio signs them", () => {
  const receivers: Array<Awaited<ReturnType<typeof startWebhookReceiver>>> = [];
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  });

  async function withReceiver(options: FakeTwilioOptions = {}) {
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const started = await start(
      { deliveryDelayMs: 5, inboundUrl: `${receiver.url}/webhooks/twilio/inbound`, ...options },
      false,
    );
    return { ...started, receiver, callbackUrl: `${receiver.url}/webhooks/twilio` };
  }

  /** The form a request carried, and whether the twilio SDK's validateRequest accepts it. */
  function read(fake: FakeTwilio, request: ReceivedRequest) {
    const params = Object.fromEntries(new URLSearchParams(request.body));
    const valid = twilio.validateRequest(
      fake.authToken,
      request.headers["x-twilio-signature"] ?? "",
      request.url,
      params,
    );
    return { params, valid };
  }

  it("posts sent then delivered to StatusCallback, form-encoded and validly signed", async () => {
    const { fake, sdk, receiver, callbackUrl } = await withReceiver();
    const message = await sdk.messages.create({
      to: TO,
      from: TWILIO_TEST_FROM,
      body: "short",
      statusCallback: callbackUrl,
    });
    await fake.callbacksIdle();
    const forms = receiver.requests.map((request) => read(fake, request));
    expect(forms.every((form) => form.valid)).toBe(true);
    expect(receiver.requests[0]?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    // No callback for the initial `queued` of a message sent without a Messaging Service.
    expect(forms.map((form) => form.params.MessageStatus)).toEqual(["sent", "delivered"]);
    expect(forms[1]?.params).toMatchObject({
      MessageSid: message.sid,
      SmsSid: message.sid,
      SmsStatus: "delivered",
      AccountSid: fake.accountSid,
      From: TWILIO_TEST_FROM,
      To: TO,
      ApiVersion: "2010-04-01",
    });
    expect(forms[1]?.params.RawDlrDoneDate).toMatch(/^\d{10}$/);
    // A forged body under the same signature does not validate.
    const forged = {
      ...receiver.requests[1],
      body: receiver.requests[1]?.body.replace("delivered", "failed"),
    };
    expect(read(fake, forged as ReceivedRequest).valid).toBe(false);
  });

  it("calls back queued first through a Messaging Service, and undelivered with its ErrorCode", async () => {
    const { fake, sdk, receiver, callbackUrl } = await withReceiver({
      undeliveredNumbers: { [TO]: 30003 },
    });
    await sdk.messages.create({
      to: TO,
      messagingServiceSid: SERVICE,
      body: "x",
      statusCallback: callbackUrl,
    });
    await fake.callbacksIdle();
    const forms = receiver.requests.map((request) => read(fake, request).params);
    expect(forms.map((form) => [form.MessageStatus, form.ErrorCode])).toEqual([
      ["queued", undefined],
      ["sent", undefined],
      ["undelivered", "30003"],
    ]);
    expect(forms[0]?.MessagingServiceSid).toBe(SERVICE);
  });

  it("posts a multi-segment message's final status before its sent", async () => {
    const { fake, sdk, receiver, callbackUrl } = await withReceiver();
    await sdk.messages.create({
      to: TO,
      from: TWILIO_TEST_FROM,
      body: "x".repeat(200),
      statusCallback: callbackUrl,
    });
    await fake.callbacksIdle();
    const statuses = receiver.requests.map((request) => read(fake, request).params.MessageStatus);
    expect(statuses).toEqual(["delivered", "sent"]);
  });

  it("posts STOP and START replies with OptOutType, and applies them to later sends", async () => {
    const { fake, sdk, receiver } = await withReceiver();
    const stop = await fake.receiveSms(TO, "stop");
    const stopForm = read(fake, receiver.requests[0] as ReceivedRequest);
    expect(stopForm.valid).toBe(true);
    expect(stopForm.params).toMatchObject({
      From: TO,
      To: TWILIO_TEST_FROM,
      Body: "stop",
      OptOutType: "STOP",
      SmsStatus: "received",
      MessagingServiceSid: INBOUND_MESSAGING_SERVICE_SID,
    });
    expect(stop.status).toBe(200);
    const refused = await rejection(
      sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "x" }),
    );
    expect(refused.code).toBe(21610);
    await fake.receiveSms(TO, "START");
    expect(read(fake, receiver.requests[1] as ReceivedRequest).params.OptOutType).toBe("START");
    await sdk.messages.create({ to: TO, from: TWILIO_TEST_FROM, body: "x" });
    // Plain numbers (no Messaging Service with Advanced Opt-Out): no OptOutType, STOP still applies.
    await fake.receiveSms(TO, "STOP", { messagingServiceSid: null });
    const plain = read(fake, receiver.requests[2] as ReceivedRequest).params;
    expect(plain.OptOutType).toBeUndefined();
    expect(plain.MessagingServiceSid).toBeUndefined();
    // A body that only contains a keyword is not one.
    await fake.receiveSms("+12025550166", "please stop");
    expect(read(fake, receiver.requests[3] as ReceivedRequest).params.OptOutType).toBeUndefined();
  });
});

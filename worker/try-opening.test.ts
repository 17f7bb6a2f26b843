import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSuppressionList } from "../delivery/suppressions.js";
import { createTestQueue } from "../test/fixtures.js";
import { createProviderGate } from "./provider-gate.js";
import { createTryOpener } from "./try-opening.js";

let fixture: Awaited<ReturnType<typeof createTestQueue>>;
let openTry: ReturnType<typeof createTryOpener>;
let gate: ReturnType<typeof createProviderGate>;
let suppressions: ReturnType<typeof createSuppressionList>;
beforeEach(async () => {
  fixture = await createTestQueue();
  const keyPrefix = fixture.queue.qualifiedName;
  gate = createProviderGate({ redis: fixture.redis, keyPrefix, perSecond: { twilio: 10 } });
  suppressions = createSuppressionList({ redis: fixture.redis, keyPrefix });
  openTry = createTryOpener({ redis: fixture.redis, gate, suppressions });
});
afterEach(async () => {
  await fixture.cleanup();
});

const CANDIDATES = [
  { channel: "email" as const, recipient: "a@example.com" },
  { channel: "sms" as const, recipient: "+12025550143" },
];
const BOOKINGS = [{ channel: "sms" as const, provider: "twilio" }];

describe("openTry", () => {
  it("answers no suppression and a slot to go when every slot is free and no one is suppressed", async () => {
    const opened = await openTry({ candidates: CANDIDATES, bookings: BOOKINGS });
    expect(opened).toEqual({ suppressed: [], reservations: { sms: { go: true } } });
  });

  it("books no slot for a suppressed recipient's channel", async () => {
    await suppressions.add("sms", "+12025550143", { reason: "stop", source: "twilio", at: "x" });
    const opened = await openTry({ candidates: CANDIDATES, bookings: BOOKINGS });
    expect(opened).toEqual({ suppressed: ["sms"], reservations: {} });
    // The slot is still free: the next booking is not pushed back.
    expect(await gate.book("twilio")).toEqual({ delayMs: 0 });
  });

  it("answers a provider's wait", async () => {
    await gate.hold("twilio", 60_000, "rate_limited", "20429");
    const opened = await openTry({ candidates: CANDIDATES, bookings: BOOKINGS });
    expect(opened.reservations.sms).toMatchObject({
      go: false,
      wait: { reason: "rate_limited", code: "20429" },
    });
  });

  it("waits for a slot later than now", async () => {
    await gate.book("twilio"); // the next slot is a tenth of a second (and a guard) away
    const started = Date.now();
    const opened = await openTry({ candidates: [], bookings: BOOKINGS });
    expect(opened).toEqual({ suppressed: [], reservations: { sms: { go: true } } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });
});

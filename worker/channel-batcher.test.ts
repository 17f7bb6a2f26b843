/**
 * The batcher's bookkeeping when its provider is in a wait: a member that arrives in the turn a
 * batch is settled starts another batch instead of joining one no one will send.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChannelAdapter, SendRequest } from "../channels/channel-adapter.js";
import { createTestQueue } from "../test/fixtures.js";
import { createChannelBatcher } from "./channel-batcher.js";
import type { Booking, ProviderGate } from "./provider-gate.js";

let fixture: Awaited<ReturnType<typeof createTestQueue>>;
beforeEach(async () => {
  fixture = await createTestQueue();
});
afterEach(async () => {
  await fixture.cleanup();
});

const WAIT = { until: Date.now() + 60_000, reason: "rate_limited" as const, code: "429" };

function request(id: string): SendRequest {
  return {
    notificationKey: `deployment/${id}/1`,
    notificationId: id,
    recipient: `${id}@example.com`,
    content: { subject: "s", html: "<p>h</p>", text: "t", sms: "" },
    previous: { status: "pending", calls: 0 },
    claim: async () => true,
    lookAlikes: () => ({ begin: async () => {}, end: async () => {}, others: async () => [] }),
  };
}

describe("createChannelBatcher", () => {
  it("settles a member that arrives as its batch is settled with a wait, in a batch of its own", async () => {
    const bookings: Array<(booking: Booking) => void> = [];
    // The slots the gate books, answered when the test says.
    const gate = {
      book: () => new Promise<Booking>((resolve) => bookings.push(resolve)),
    } as unknown as ProviderGate;
    const adapter = {
      channel: "email",
      provider: "resend",
      maskRecipient: (recipient: string) => recipient,
      send: async () => ({ providerId: "x" }),
      sendBatch: async () => [],
    } as ChannelAdapter & { sendBatch: NonNullable<ChannelAdapter["sendBatch"]> };
    const batcher = createChannelBatcher({
      adapter,
      maxSize: 100,
      gate,
      redis: fixture.redis,
      keyPrefix: fixture.queue.qualifiedName,
      suppressionLookup: (recipients) => ({
        key: `${fixture.queue.qualifiedName}:suppressions`,
        fields: recipients.map((recipient) => `email:${recipient}`),
      }),
    });
    const first = batcher.send(request("first"));
    let late: ReturnType<typeof batcher.send> | undefined;
    bookings[0]?.({ wait: WAIT });
    // Runs after the batch settled its members, before the batcher's next step.
    queueMicrotask(() => {
      late = batcher.send(request("late"));
    });
    expect(await first).toEqual({ wait: WAIT });
    await new Promise((resolve) => setImmediate(resolve));
    expect(bookings).toHaveLength(2);
    bookings[1]?.({ wait: WAIT });
    expect(await late).toEqual({ wait: WAIT });
  });
});

import { describe, expect, it } from "vitest";
import { ChannelError } from "../channels/channel-error.js";
import type { ChannelDelivery, DeliveryReport } from "../contract/delivery-report.js";
import {
  decide,
  markInFlight,
  nextChannelState,
  reopenAfterFinalFailure,
} from "./delivery-steps.js";

const pending: ChannelDelivery = { status: "pending", calls: 0 };
const sent: ChannelDelivery = { status: "sent", calls: 1, providerId: "SM1" };
const wait = { until: 5000, reason: "quota" as const, code: "daily_quota_exceeded" };

describe("nextChannelState", () => {
  it("marks a sent channel with its provider id and forgets any call in doubt", () => {
    const state = nextChannelState(
      { status: "pending", calls: 1, inFlightSince: 100 },
      { type: "sent", providerId: "SM9", recovered: true },
      200,
    );
    expect(state).toEqual({ status: "sent", calls: 2, providerId: "SM9" });
  });

  it("keeps the earliest call in doubt after a call that may have reached the provider", () => {
    const error = new ChannelError("transient", "20500", "boom", { mayHaveSent: true });
    expect(nextChannelState(pending, { type: "failed", error }, 200, 250)).toEqual({
      status: "pending",
      calls: 1,
      inFlightSince: 200,
      inFlightUntil: 250,
      error: { code: "20500", message: "boom", permanent: false, kind: "transient" },
    });
    // An earlier doubt with a known end: the doubt now spans both calls.
    const answered = { ...pending, calls: 1, inFlightSince: 100, inFlightUntil: 150 };
    const both = nextChannelState(answered, { type: "failed", error }, 200, 250);
    expect([both.inFlightSince, both.inFlightUntil]).toEqual([100, 250]);
    // An earlier doubt whose end is unknown (a crash): the window stays open.
    const crashed = { ...pending, calls: 1, inFlightSince: 100 };
    const open = nextChannelState(crashed, { type: "failed", error }, 200, 250);
    expect([open.inFlightSince, open.inFlightUntil]).toEqual([100, undefined]);
  });

  it("records no call in doubt after a clear refusal, and keeps an earlier one", () => {
    const refused = new ChannelError("transient", "ECONNREFUSED", "refused");
    expect(nextChannelState(pending, { type: "failed", error: refused }, 200)).not.toHaveProperty(
      "inFlightSince",
    );
    const crashed = { ...pending, calls: 1, inFlightSince: 100 };
    const kept = nextChannelState(crashed, { type: "failed", error: refused }, 200);
    expect(kept.inFlightSince).toBe(100);
  });

  it("forgets an earlier call in doubt when the answer says the message was never sent", () => {
    const listed = new ChannelError("transient", "validation_error", "not sent", {
      settlesEarlierCalls: true,
    });
    const crashed = { ...pending, calls: 1, inFlightSince: 100, inFlightUntil: 150 };
    const state = nextChannelState(crashed, { type: "failed", error: listed }, 200);
    expect(state).not.toHaveProperty("inFlightSince");
    expect(state).not.toHaveProperty("inFlightUntil");
  });

  it("marks a member left out of its batch as suppressed, without a call", () => {
    expect(nextChannelState(pending, { type: "suppressed" }, 200)).toEqual({
      status: "suppressed",
      calls: 0,
    });
  });

  it("fails a channel on a permanent error and leaves one held back by a wait untouched", () => {
    const error = new ChannelError("permanent", "21211", "bad number");
    expect(nextChannelState(pending, { type: "failed", error }, 1).status).toBe("failed");
    expect(nextChannelState(pending, { type: "waiting", wait }, 1)).toBe(pending);
  });

  it("counts the call that earned a wait, and keeps the channel pending", () => {
    const error = new ChannelError("quota", "daily_quota_exceeded", "quota");
    expect(nextChannelState(pending, { type: "waiting", wait, error }, 1)).toMatchObject({
      status: "pending",
      calls: 1,
      error: { kind: "quota", permanent: false },
    });
  });
});

describe("markInFlight", () => {
  it("records the call's start unless an earlier call is already in doubt", () => {
    expect(markInFlight(pending, 300)).toEqual({ ...pending, inFlightSince: 300 });
    expect(markInFlight({ ...pending, inFlightSince: 100 }, 300).inFlightSince).toBe(100);
  });
});

describe("decide", () => {
  const transient = new ChannelError("transient", "500", "down");
  const failedEmail = {
    status: "pending",
    calls: 1,
    error: { code: "500", message: "down", permanent: false },
  } as const;

  it("completes when every channel is sent or skipped", () => {
    const report: DeliveryReport = { email: sent, sms: { status: "skipped", calls: 0 } };
    expect(
      decide(report, { email: { type: "sent", providerId: "x", recovered: false } }, false).verdict,
    ).toEqual({
      type: "completed",
    });
  });

  it("retries a transient failure while attempts remain, even when another channel waits", () => {
    const report: DeliveryReport = { email: failedEmail, sms: pending };
    const { verdict } = decide(
      report,
      { email: { type: "failed", error: transient }, sms: { type: "waiting", wait } },
      false,
    );
    expect(verdict).toEqual({ type: "retry", reason: "email 500: down" });
  });

  it("on the last attempt fails the transient channel but still waits for the other provider", () => {
    const report: DeliveryReport = { email: failedEmail, sms: pending };
    const { report: next, verdict } = decide(
      report,
      { email: { type: "failed", error: transient }, sms: { type: "waiting", wait } },
      true,
    );
    expect(next.email.status).toBe("failed");
    expect(verdict).toEqual({ type: "wait", until: 5000 });
  });

  it("waits until the earliest provider wait ends", () => {
    const report: DeliveryReport = { email: pending, sms: pending };
    const { verdict } = decide(
      report,
      { email: { type: "waiting", wait }, sms: { type: "waiting", wait: { ...wait, until: 300 } } },
      false,
    );
    expect(verdict).toEqual({ type: "wait", until: 300 });
  });

  it("fails for good, marked final, once nothing is left but a failed channel", () => {
    const failed: ChannelDelivery = {
      status: "failed",
      calls: 1,
      error: { code: "21211", message: "bad", permanent: true },
    };
    const { report, verdict } = decide({ email: sent, sms: failed }, {}, false);
    expect(verdict).toEqual({ type: "failed", reason: "sms 21211: bad" });
    expect(report.final).toBe(true);
  });
});

describe("reopenAfterFinalFailure", () => {
  it("reopens failed channels of a final report and keeps sent ones", () => {
    const failed: ChannelDelivery = { status: "failed", calls: 4, inFlightSince: 7 };
    expect(reopenAfterFinalFailure({ email: sent, sms: failed, final: true })).toEqual({
      email: sent,
      sms: { status: "pending", calls: 4, inFlightSince: 7 },
    });
    const notFinal = { email: sent, sms: failed };
    expect(reopenAfterFinalFailure(notFinal)).toBe(notFinal);
  });
});

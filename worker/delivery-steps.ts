/**
 * The processor's decisions as pure functions, unit-tested on their own: how one provider call's
 * outcome changes a channel's state, and what a whole try of a notification ends in.
 */

import type { ChannelError } from "../channels/channel-error.js";
import { CHANNELS, type Channel } from "../contract/channels.js";
import type { ChannelDelivery, DeliveryReport } from "../contract/delivery-report.js";
import type { ProviderWait } from "./provider-gate.js";

/** What happened to one channel in one try. */
export type ChannelOutcome =
  | { type: "sent"; providerId: string; recovered: boolean }
  /** A call that failed: permanent or transient. */
  | { type: "failed"; error: ChannelError }
  /** The provider is in a wait; `error` when our own call just caused it. */
  | { type: "waiting"; wait: ProviderWait; error?: ChannelError }
  /** The recipient was suppressed before the call (a batch leaves such members out). */
  | { type: "suppressed" };

/** What a try of a notification ends in. */
export type Verdict =
  | { type: "completed" }
  /** A channel failed transiently: BullMQ retries with backoff, using an attempt. */
  | { type: "retry"; reason: string }
  /** A provider is in a wait: the job is delayed until the first wait ends, no attempt used. */
  | { type: "wait"; until: number }
  /** A channel failed for good and nothing else is left to try. */
  | { type: "failed"; reason: string };

/**
 * The state a channel had while its call was under way, as written before the call when its
 * adapter records calls first: the earliest call that may have reached the provider unanswered.
 */
export function markInFlight(state: ChannelDelivery, calledAt: number): ChannelDelivery {
  // Until this call answers, its end is unknown (a crash would leave it so): no upper bound.
  const { inFlightUntil: _until, ...rest } = state;
  return { ...rest, inFlightSince: state.inFlightSince ?? calledAt };
}

/**
 * A channel's state after one outcome. `state` is what the try started with; `calledAt` when
 * its call began. A call that may have reached the provider keeps the earliest such time, so a
 * later try looks for its message; a clear "not accepted" answer leaves earlier doubts as they were.
 */
export function nextChannelState(
  state: ChannelDelivery,
  outcome: ChannelOutcome,
  calledAt: number,
  /** When the outcome's answer came back. */
  answeredAt = Date.now(),
): ChannelDelivery {
  if (outcome.type === "sent") {
    return { status: "sent", calls: state.calls + 1, providerId: outcome.providerId };
  }
  if (outcome.type === "suppressed") return { status: "suppressed", calls: state.calls };
  const error = outcome.error;
  if (!error) return state; // held back by the provider's wait: no call was made
  const inFlightSince = error.mayHaveSent
    ? (state.inFlightSince ?? calledAt)
    : error.settlesEarlierCalls
      ? undefined
      : state.inFlightSince;
  // The end of the doubt: this call's unclear answer, or an earlier one's when this call was
  // refused for sure. Only bounded when every call in doubt ended with an answer.
  const inFlightUntil =
    inFlightSince === undefined
      ? undefined
      : error.mayHaveSent
        ? state.inFlightSince !== undefined && state.inFlightUntil === undefined
          ? undefined
          : answeredAt
        : state.inFlightUntil;
  return {
    status: error.kind === "permanent" ? "failed" : "pending",
    // A deferred try made no provider call.
    calls: state.calls + (error.kind === "deferred" ? 0 : 1),
    ...(inFlightSince === undefined ? {} : { inFlightSince }),
    ...(inFlightUntil === undefined ? {} : { inFlightUntil }),
    error: {
      code: error.code,
      message: error.message,
      permanent: error.kind === "permanent",
      kind: error.kind,
    },
  };
}

/**
 * What a try ends in, and the report to store. Transient failures retry while attempts remain
 * (on the last attempt those channels fail); provider waits delay the job without using an
 * attempt; a channel failed for good fails the notification once nothing else is pending.
 */
export function decide(
  report: DeliveryReport,
  outcomes: Partial<Record<Channel, ChannelOutcome>>,
  lastAttempt: boolean,
): { report: DeliveryReport; verdict: Verdict } {
  const next: DeliveryReport = { ...report };
  const transient = CHANNELS.filter(
    (channel) => outcomes[channel]?.type === "failed" && next[channel].status === "pending",
  );
  if (transient.length > 0 && !lastAttempt) {
    return { report: next, verdict: { type: "retry", reason: describeFailures(next, transient) } };
  }
  for (const channel of transient) next[channel] = { ...next[channel], status: "failed" };

  const waits = CHANNELS.flatMap((channel) => {
    const outcome = outcomes[channel];
    return outcome?.type === "waiting" ? [outcome.wait.until] : [];
  });
  if (waits.length > 0)
    return { report: next, verdict: { type: "wait", until: Math.min(...waits) } };

  const failed = CHANNELS.filter((channel) => next[channel].status === "failed");
  if (failed.length > 0) {
    return {
      report: { ...next, final: true },
      verdict: { type: "failed", reason: describeFailures(next, failed) },
    };
  }
  return { report: next, verdict: { type: "completed" } };
}

/**
 * A report that ended in a final failure is being run again: an operator retried it. Its failed
 * channels go back to pending; sent ones stay sent.
 */
export function reopenAfterFinalFailure(report: DeliveryReport): DeliveryReport {
  if (!report.final) return report;
  const reopened = Object.fromEntries(
    CHANNELS.map((channel) => {
      const state = report[channel];
      return [channel, state.status === "failed" ? { ...state, status: "pending" } : state];
    }),
  );
  return reopened as unknown as DeliveryReport;
}

/** `sms 21211: Invalid 'To' Phone Number; email internal_server_error: down` */
function describeFailures(report: DeliveryReport, channels: Channel[]): string {
  return channels
    .map((channel) => {
      const error = report[channel].error;
      return `${channel} ${error?.code ?? "unknown"}: ${error?.message ?? "failed"}`;
    })
    .join("; ");
}

import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { Channel } from "../contract/channels.js";
import { inSpan } from "../lib/tracing.js";
import type { ChannelOutcome } from "./delivery-steps.js";

/** What a provider call came to, as a span attribute: one word per kind of outcome. */
export function outcomeClass(outcome: ChannelOutcome): string {
  if (outcome.type === "sent") return outcome.recovered ? "recovered" : "sent";
  if (outcome.type === "failed") return outcome.error.kind;
  if (outcome.type === "suppressed") return "suppressed";
  // A wait our own call caused names its trouble (rate_limited, quota, misconfigured, deferred).
  return outcome.error?.kind ?? "waiting";
}

/**
 * Runs one channel's provider call in a client span (a child of BullMQ's attempt span) while
 * tracing is on, with the provider, channel, outcome class and provider message id as
 * attributes. Never the recipient, and no error message: a provider's text may quote it.
 */
export function traceSend(
  channel: Channel,
  provider: string,
  attributes: { notificationId: string; attempt: number },
  send: () => Promise<ChannelOutcome>,
): Promise<ChannelOutcome> {
  return inSpan(
    `send ${channel} ${provider}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "notification.provider": provider,
        "notification.channel": channel,
        "notification.id": attributes.notificationId,
        "notification.attempt": attributes.attempt,
      },
    },
    async (span) => {
      const outcome = await send();
      if (span) {
        span.setAttribute("notification.outcome", outcomeClass(outcome));
        if (outcome.type === "sent")
          span.setAttribute("notification.provider_message_id", outcome.providerId);
        const error =
          outcome.type === "failed" || outcome.type === "waiting" ? outcome.error : undefined;
        if (error) {
          span.setAttribute("error.type", error.code);
          if (outcome.type === "failed") span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      return outcome;
    },
  );
}

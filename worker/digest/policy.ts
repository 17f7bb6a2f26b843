/**
 * Which channels of a fill are digested, and with what timing: the worker's configuration
 * (DIGEST_* variables) overridden per request by the payload's `digest` field. Pure.
 */
import { CHANNELS, type Channel } from "../../contract/channels.js";
import type { NotificationPayload } from "../../contract/notification-job.js";

/** When a digest is sent: `windowMs` after its last fill, `maxWaitMs` after its first at the latest. */
export interface DigestTiming {
  windowMs: number;
  maxWaitMs: number;
}

/** One channel's configured policy: its timing applies to per-request overrides even when off. */
export interface ChannelDigestConfig extends DigestTiming {
  enabled: boolean;
}

/** The deployment's digest policy, from the environment. */
export interface DigestConfig {
  channels: Record<Channel, ChannelDigestConfig>;
  /** A digest is sent once it holds this many fills. */
  maxFills: number;
  /** How long after an order's final fill its digest goes, for fills still being processed. */
  finalDelayMs: number;
}

/** The digest settings of a parsed worker environment. */
export function digestConfigOf(env: {
  DIGEST_SMS: boolean;
  DIGEST_SMS_WINDOW_MS: number;
  DIGEST_SMS_MAX_WAIT_MS: number;
  DIGEST_EMAIL: boolean;
  DIGEST_EMAIL_WINDOW_MS: number;
  DIGEST_EMAIL_MAX_WAIT_MS: number;
  DIGEST_MAX_FILLS: number;
  DIGEST_FINAL_DELAY_MS: number;
}): DigestConfig {
  return {
    channels: {
      sms: {
        enabled: env.DIGEST_SMS,
        windowMs: env.DIGEST_SMS_WINDOW_MS,
        maxWaitMs: env.DIGEST_SMS_MAX_WAIT_MS,
      },
      email: {
        enabled: env.DIGEST_EMAIL,
        windowMs: env.DIGEST_EMAIL_WINDOW_MS,
        maxWaitMs: env.DIGEST_EMAIL_MAX_WAIT_MS,
      },
    },
    maxFills: env.DIGEST_MAX_FILLS,
    finalDelayMs: env.DIGEST_FINAL_DELAY_MS,
  };
}

/**
 * The timing of `channel`'s digest for this payload, or undefined when the channel is sent as
 * today: not a fill, digests off for the channel, or the request said `false`.
 */
export function digestTimingFor(
  payload: NotificationPayload,
  channel: Channel,
  config: DigestConfig,
): DigestTiming | undefined {
  if (payload.type !== "trade.executed" || payload.fill === undefined) return undefined;
  const configured = config.channels[channel];
  const override = payload.digest?.[channel];
  if (override === false) return undefined;
  if (override === undefined) {
    return configured.enabled
      ? { windowMs: configured.windowMs, maxWaitMs: configured.maxWaitMs }
      : undefined;
  }
  const maxWaitMs = override.maxWaitMs ?? configured.maxWaitMs;
  // A window longer than the maximum wait would never be the one that sends.
  return { windowMs: Math.min(override.windowMs ?? configured.windowMs, maxWaitMs), maxWaitMs };
}

/** The channels of `payload` that go into a digest, with their timing. */
export function digestedChannels(
  payload: NotificationPayload,
  config: DigestConfig,
): Partial<Record<Channel, DigestTiming>> {
  const timings: Partial<Record<Channel, DigestTiming>> = {};
  for (const channel of CHANNELS) {
    const timing = digestTimingFor(payload, channel, config);
    if (timing) timings[channel] = timing;
  }
  return timings;
}

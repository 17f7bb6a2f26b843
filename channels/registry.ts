import type { z } from "zod";
import type { Channel } from "../contract/channels.js";
import type { Logger } from "../lib/logger.js";
import type { ChannelAdapter } from "./channel-adapter.js";
import { createDevOutboxAdapters } from "./dev-outbox.js";
import type { BatchSettings, CommonProviderSettings } from "./provider-setup.js";
import { resendEmailSetup } from "./resend-email.js";
import { twilioSmsSetup } from "./twilio-sms.js";

/**
 * The one list of channels and their providers: Resend for email, Twilio for SMS. Adding a
 * channel or swapping a provider: an adapter file beside this one and its line here.
 */
const PROVIDERS = { email: resendEmailSetup, sms: twilioSmsSetup } as const;

/** Every provider's environment variables, merged into the worker's schema. */
export const providerEnvFields = { ...resendEmailSetup.env, ...twilioSmsSetup.env };
type ProviderEnv = z.output<z.ZodObject<typeof providerEnvFields>>;

/** Checks that each provider is configured completely (all of it in production). */
export function checkProviderEnv(
  env: ProviderEnv,
  production: boolean,
  require: (name: string, why: string) => void,
): void {
  for (const setup of Object.values(PROVIDERS)) {
    // Each setup reads only its own fields of the merged environment.
    (setup.check as (e: ProviderEnv, p: boolean, r: typeof require) => void)(
      env,
      production,
      require,
    );
  }
}

/** The adapters the worker sends through, one per channel, with their providers' limits. */
export interface ChannelRegistry {
  adapters: Record<Channel, ChannelAdapter>;
  /** Calls per second each provider takes, across replicas; 0 for no limit. */
  providerRatePerSecond: Record<string, number>;
  /** Channels whose sends are batched, and how. */
  batching?: Partial<Record<Channel, BatchSettings>>;
}

/**
 * The configured providers' adapters; the development outbox for a channel whose provider is not
 * configured (never in production: the env schema refuses a production start without them).
 */
export function buildChannelRegistry(
  env: ProviderEnv & { PROVIDER_TIMEOUT_MS: number; DEV_OUTBOX_DIR: string },
  print: (line: string) => void,
  logger?: Logger,
): ChannelRegistry {
  const common: CommonProviderSettings = { timeoutMs: env.PROVIDER_TIMEOUT_MS, logger };
  let outbox: ReturnType<typeof createDevOutboxAdapters> | undefined;
  const adapters = {} as Record<Channel, ChannelAdapter>;
  const providerRatePerSecond: Record<string, number> = {};
  const batching: Partial<Record<Channel, BatchSettings>> = {};
  for (const channel of Object.keys(PROVIDERS) as Channel[]) {
    const setup = PROVIDERS[channel] as unknown as {
      build(e: ProviderEnv, c: CommonProviderSettings): ChannelAdapter | undefined;
      ratePerSecond(e: ProviderEnv): number;
      batching?(e: ProviderEnv): BatchSettings | undefined;
    };
    const adapter = setup.build(env, common);
    if (adapter) {
      adapters[channel] = adapter;
      providerRatePerSecond[adapter.provider] = setup.ratePerSecond(env);
      const settings = adapter.sendBatch ? setup.batching?.(env) : undefined;
      if (settings) batching[channel] = settings;
    } else {
      outbox ??= createDevOutboxAdapters(env.DEV_OUTBOX_DIR, print);
      adapters[channel] = outbox[channel];
    }
  }
  return { adapters, providerRatePerSecond, batching };
}

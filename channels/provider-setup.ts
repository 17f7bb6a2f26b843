import type { z } from "zod";
import type { Logger } from "../lib/logger.js";
import type { ChannelAdapter } from "./channel-adapter.js";

/** Settings every provider adapter gets from the worker's environment. */
export interface CommonProviderSettings {
  timeoutMs: number;
  /** For what an adapter notices that is worth an operator's look. */
  logger?: Logger;
}

/**
 * How one provider is configured: its environment variables (merged into the worker's schema),
 * the check that they are complete, and the adapter they build. The registry lists these, so
 * the worker's env schema names no provider.
 */
export interface ProviderSetup<Fields extends z.ZodRawShape> {
  /** The provider's variables, each with its default. */
  env: Fields;
  /**
   * Adds an issue for each missing variable: in production all are required; elsewhere a
   * provider is either fully configured or not at all (then the development outbox stands in).
   */
  check(
    env: z.output<z.ZodObject<Fields>>,
    production: boolean,
    require: (name: keyof Fields & string, why: string) => void,
  ): void;
  /** The adapter, or undefined when the provider is not configured. */
  build(
    env: z.output<z.ZodObject<Fields>>,
    common: CommonProviderSettings,
  ): ChannelAdapter | undefined;
  /** Calls per second the provider takes, across replicas; 0 for no limit. */
  ratePerSecond(env: z.output<z.ZodObject<Fields>>): number;
  /** How sends are batched for a provider with a batch endpoint; undefined: one call each. */
  batching?(env: z.output<z.ZodObject<Fields>>): BatchSettings | undefined;
}

/** Up to `maxSize` sends a call, collected until the provider's next slot. */
export interface BatchSettings {
  maxSize: number;
}

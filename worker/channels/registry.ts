import type { Channel } from "../../contract/channels.js";
import type { WorkerEnv } from "../env.js";
import type { ChannelAdapter } from "./channel-adapter.js";
import { createDevOutboxAdapters } from "./dev-outbox.js";
import { createResendEmailAdapter } from "./resend-email.js";
import { createTwilioSmsAdapter } from "./twilio-sms.js";

/** The adapters the worker sends through, one per channel, with their providers' limits. */
export interface ChannelRegistry {
  adapters: Record<Channel, ChannelAdapter>;
  /** Calls per second each provider takes, across replicas; 0 for no limit. */
  providerRatePerSecond: Record<string, number>;
}

/**
 * The one list of channels and providers: Resend for email and Twilio for SMS where their
 * credentials are set, the development outbox for the rest (never in production: the env schema
 * refuses a production start without credentials). Adding a channel or a provider: an adapter
 * file beside this one and a line here.
 */
export function buildChannelRegistry(
  env: WorkerEnv,
  print: (line: string) => void,
): ChannelRegistry {
  const timeoutMs = env.PROVIDER_TIMEOUT_MS;
  let outbox: ReturnType<typeof createDevOutboxAdapters> | undefined;
  const devOutbox = () => {
    outbox ??= createDevOutboxAdapters(env.DEV_OUTBOX_DIR, print);
    return outbox;
  };

  const email =
    env.RESEND_API_KEY && env.EMAIL_FROM
      ? createResendEmailAdapter({
          apiKey: env.RESEND_API_KEY,
          from: env.EMAIL_FROM,
          baseUrl: env.RESEND_BASE_URL,
          timeoutMs,
        })
      : devOutbox().email;
  const sms =
    env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN && env.TWILIO_FROM
      ? createTwilioSmsAdapter({
          accountSid: env.TWILIO_ACCOUNT_SID,
          authToken: env.TWILIO_AUTH_TOKEN,
          from: env.TWILIO_FROM,
          apiBaseUrl: env.TWILIO_API_BASE_URL,
          timeoutMs,
        })
      : devOutbox().sms;

  return {
    adapters: { email, sms },
    providerRatePerSecond: {
      [email.provider]: email.provider === "dev-outbox" ? 0 : env.EMAIL_RATE_LIMIT_PER_SECOND,
      [sms.provider]: sms.provider === "dev-outbox" ? 0 : env.SMS_RATE_LIMIT_PER_SECOND,
    },
  };
}

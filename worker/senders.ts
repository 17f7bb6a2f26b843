import { createDevOutbox } from "./channels/dev-outbox.js";
import { createResendEmailSender } from "./channels/email.js";
import type { Senders } from "./channels/sender.js";
import { createTwilioSmsSender } from "./channels/sms.js";
import type { WorkerEnv } from "./env.js";

/**
 * Real providers where credentials are set; the development outbox for the rest.
 * The env schema already refuses a production start without credentials.
 */
export function buildSenders(env: WorkerEnv, print: (line: string) => void): Senders {
  const outbox = createDevOutbox(env.DEV_OUTBOX_DIR, print);
  const timeoutMs = env.PROVIDER_TIMEOUT_MS;

  const resend =
    env.RESEND_API_KEY && env.EMAIL_FROM
      ? createResendEmailSender({
          apiKey: env.RESEND_API_KEY,
          from: env.EMAIL_FROM,
          baseUrl: env.RESEND_BASE_URL,
          timeoutMs,
        })
      : undefined;
  const twilio =
    env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN && env.TWILIO_FROM
      ? createTwilioSmsSender({
          accountSid: env.TWILIO_ACCOUNT_SID,
          authToken: env.TWILIO_AUTH_TOKEN,
          from: env.TWILIO_FROM,
          apiBaseUrl: env.TWILIO_API_BASE_URL,
          timeoutMs,
        })
      : undefined;

  return {
    emailProvider: resend ? "resend" : "dev-outbox",
    smsProvider: twilio ? "twilio" : "dev-outbox",
    sendEmail: resend ?? outbox.sendEmail,
    sendSms: twilio ?? outbox.sendSms,
  };
}

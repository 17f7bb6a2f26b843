import { createResendWebhook } from "./resend-webhook.js";
import { createTwilioWebhook } from "./twilio-webhook.js";
import type { WebhookAdapter } from "./webhook-adapter.js";

/** The gateway's settings its provider webhooks are built from; a webhook without its secret is off. */
export interface WebhookSettings {
  /** RESEND_WEBHOOK_SECRET, `whsec_…`: turns Resend's webhook on. */
  resendSecret?: string;
  /** TWILIO_AUTH_TOKEN: Twilio signs its webhooks with it; with `publicUrl` they are on. */
  twilioAuthToken?: string;
  /** PUBLIC_URL: the base URL providers post to, which Twilio's signature covers. */
  publicUrl?: string;
}

/** The settings as the gateway's environment names them. */
export function webhookSettingsOf(env: {
  RESEND_WEBHOOK_SECRET?: string | undefined;
  TWILIO_AUTH_TOKEN?: string | undefined;
  PUBLIC_URL?: string | undefined;
}): WebhookSettings {
  return {
    resendSecret: env.RESEND_WEBHOOK_SECRET,
    twilioAuthToken: env.TWILIO_AUTH_TOKEN,
    publicUrl: env.PUBLIC_URL,
  };
}

/**
 * The one list of provider webhooks the gateway receives: each one whose secret is configured.
 * An unconfigured one is not built, so its paths are a 404 like any other: never a webhook that
 * accepts what it cannot verify.
 */
export function buildWebhookAdapters(settings: WebhookSettings): WebhookAdapter[] {
  const adapters: WebhookAdapter[] = [];
  if (settings.resendSecret) adapters.push(createResendWebhook(settings.resendSecret));
  if (settings.twilioAuthToken && settings.publicUrl) {
    adapters.push(
      createTwilioWebhook({ authToken: settings.twilioAuthToken, publicUrl: settings.publicUrl }),
    );
  }
  return adapters;
}

/** Settings that leave a webhook off although part of it is configured, said at start. */
export function webhookWarnings(settings: WebhookSettings): string[] {
  return settings.twilioAuthToken && !settings.publicUrl
    ? [
        "TWILIO_AUTH_TOKEN is set without PUBLIC_URL: Twilio's webhooks are off (set PUBLIC_URL, see docs/delivery-status.md)",
      ]
    : [];
}

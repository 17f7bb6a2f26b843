import { z } from "zod";

/** A BCP 47 tag Intl accepts, canonicalised (`zh-hans` → `zh-Hans`). */
export const languageTagSchema = z.string().transform((tag, ctx) => {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    if (canonical) return canonical;
  } catch {
    // reported below
  }
  ctx.addIssue({
    code: "custom",
    message: "must be a BCP 47 language tag, for example en or pt-BR",
  });
  return z.NEVER;
});

/** An IANA time zone Intl knows. */
export const timeZoneSchema = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, "must be an IANA time zone, for example UTC or Europe/Paris");

const httpsUrl = z
  .url({ protocol: /^https?$/ })
  .describe("an http(s) URL")
  .refine((url) => !url.includes("%%"), "must not contain %%");

/**
 * What messages are written with: the deployment's default language and time zone, its own
 * catalogs, and the exchange's brand. The worker renders with them; the gateway reads them for
 * the admin previews, so both parse them and a preview shows what customers receive.
 */
export const messageEnvFields = {
  /** Language of a notification that names none, or names one without a catalog. */
  DEFAULT_LOCALE: languageTagSchema.default("en"),
  /** Time zone of dates in a notification that names none. */
  DEFAULT_TIME_ZONE: timeZoneSchema.default("UTC"),
  /** A folder of `<locale>.json` ICU catalogs that override the shipped wording or add locales. */
  MESSAGES_DIR: z.string().min(1).optional(),
  /** The exchange's name, in every email's header and footer and at the start of every SMS. */
  BRAND_NAME: z
    .string()
    .min(1)
    .max(16, "must be at most 16 characters (it starts every SMS)")
    .refine((name) => !/[\p{Cc}]|%%/u.test(name), "must be one line without %%")
    .default("Exchange"),
  /** Logo shown in the email header (PNG or JPEG over https; about 240×60); the name when unset. */
  BRAND_LOGO_URL: httpsUrl.optional(),
  /** Header colour, `#rrggbb`; the header's text is black or white, whichever contrasts more. */
  BRAND_COLOR: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, "must be a colour as #rrggbb")
    .default("#1f3a5f"),
  /** Where a customer gets help; linked in every footer and in the "If this wasn't you" line. */
  BRAND_SUPPORT_URL: httpsUrl.default("https://example.com/support"),
  /** The exchange's postal address, printed in the email footer (anti-spam laws ask for one). */
  BRAND_POSTAL_ADDRESS: z.string().max(200).optional(),
};

/** The message settings of a parsed environment. */
export interface MessageEnv {
  DEFAULT_LOCALE: string;
  DEFAULT_TIME_ZONE: string;
  MESSAGES_DIR?: string | undefined;
  BRAND_NAME: string;
  BRAND_LOGO_URL?: string | undefined;
  BRAND_COLOR: string;
  BRAND_SUPPORT_URL: string;
  BRAND_POSTAL_ADDRESS?: string | undefined;
}

/** The message settings when nothing is configured: derived from the schema, where the defaults live. */
export const DEFAULT_MESSAGE_ENV: MessageEnv = z.object(messageEnvFields).parse({});

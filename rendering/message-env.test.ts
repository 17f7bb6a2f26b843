import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EnvError, parseEnv } from "../lib/env.js";
import { DEFAULT_MESSAGE_ENV, messageEnvFields } from "./message-env.js";

const schema = z.object(messageEnvFields);

function issues(source: Record<string, string>): string[] {
  try {
    parseEnv(schema, source);
    return [];
  } catch (error) {
    if (error instanceof EnvError) return error.issues;
    throw error;
  }
}

describe("the message settings", () => {
  it("names each bad brand, locale and time zone variable", () => {
    expect(
      issues({
        DEFAULT_LOCALE: "not a tag!",
        DEFAULT_TIME_ZONE: "Mars/Olympus",
        BRAND_NAME: "A name far too long for an SMS",
        BRAND_COLOR: "blue",
        BRAND_LOGO_URL: "javascript:alert(1)",
        BRAND_SUPPORT_URL: "ftp://example.com",
      }),
    ).toEqual([
      "DEFAULT_LOCALE: must be a BCP 47 language tag, for example en or pt-BR",
      "DEFAULT_TIME_ZONE: must be an IANA time zone, for example UTC or Europe/Paris",
      "BRAND_NAME: must be at most 16 characters (it starts every SMS)",
      "BRAND_LOGO_URL: Invalid URL",
      "BRAND_COLOR: must be a colour as #rrggbb",
      "BRAND_SUPPORT_URL: Invalid URL",
    ]);
  });

  it("canonicalises the default locale and fills the defaults from the schema", () => {
    expect(parseEnv(schema, { DEFAULT_LOCALE: "zh-hans" }).DEFAULT_LOCALE).toBe("zh-Hans");
    expect(DEFAULT_MESSAGE_ENV).toEqual({
      DEFAULT_LOCALE: "en",
      DEFAULT_TIME_ZONE: "UTC",
      BRAND_NAME: "Exchange",
      BRAND_COLOR: "#1f3a5f",
      BRAND_SUPPORT_URL: "https://example.com/support",
    });
  });
});

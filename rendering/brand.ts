import type { MessageEnv } from "./message-env.js";

/** The exchange's brand, as configured (BRAND_* variables). */
export interface Brand {
  name: string;
  logoUrl?: string | undefined;
  /** `#rrggbb` */
  color: string;
  supportUrl: string;
  postalAddress?: string | undefined;
}

/** The brand of a parsed environment. */
export function brandOf(env: MessageEnv): Brand {
  return {
    name: env.BRAND_NAME,
    logoUrl: env.BRAND_LOGO_URL,
    color: env.BRAND_COLOR,
    supportUrl: env.BRAND_SUPPORT_URL,
    postalAddress: env.BRAND_POSTAL_ADDRESS,
  };
}

/** Black or white, whichever contrasts more with `#rrggbb` (WCAG relative luminance). */
export function textColorOn(background: string): "#000000" | "#ffffff" {
  const channel = (offset: number) => {
    const value = Number.parseInt(background.slice(offset, offset + 2), 16) / 255;
    return value <= 0.04045 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  // Contrast with white is 1.05 / (L + 0.05), with black (L + 0.05) / 0.05; they cross at L ≈ 0.179.
  return luminance > 0.179 ? "#000000" : "#ffffff";
}

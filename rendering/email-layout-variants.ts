/** Which parts of the email layout a brand and a message have: each combination is its own HTML. */
export interface LayoutVariant {
  /** The brand's logo in the header (BRAND_LOGO_URL), else its name. */
  logo: boolean;
  /** The brand's postal address in the footer (BRAND_POSTAL_ADDRESS). */
  address: boolean;
  /** The "If this wasn't you" line. */
  security: boolean;
}

/** A variant's key in email-layouts.generated.ts: `name` or `logo`, then `+address`, `+security`. */
export function variantName(variant: LayoutVariant): string {
  return `${variant.logo ? "logo" : "name"}${variant.address ? "+address" : ""}${variant.security ? "+security" : ""}`;
}

/** Every combination, in the generated file's order. */
export const LAYOUT_VARIANTS: readonly LayoutVariant[] = [false, true].flatMap((logo) =>
  [false, true].flatMap((address) =>
    [false, true].map((security) => ({ logo, address, security })),
  ),
);

const quantityFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 8 });

/** Decimal strings are formatted exactly (no binary rounding). `"1000", "USD"` → `$1,000.00`; codes Intl does not know as currencies (USDT) → `1,000 USDT`. */
export function formatMoney(amount: string, currency: string): string {
  if (currency.length === 3) {
    try {
      return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(
        amount as Intl.StringNumericLiteral,
      );
    } catch {
      // Not an ISO 4217 code Intl accepts: fall through to the plain form.
    }
  }
  return `${quantityFormat.format(amount as Intl.StringNumericLiteral)} ${currency}`;
}

/** `0.02` → `0.02`, up to 8 decimals (satoshi precision). */
export function formatQuantity(quantity: string): string {
  return quantityFormat.format(quantity as Intl.StringNumericLiteral);
}

/** Removes control characters (CR, LF, tabs…) so a value cannot break an SMS or a header line. */
export function singleLine(value: string): string {
  return value.replace(/\p{Cc}+/gu, " ").trim();
}

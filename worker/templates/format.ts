const quantityFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 8 });

/** `1000, "USD"` → `$1,000.00`; codes Intl does not know as currencies (USDT) → `1,000 USDT`. */
export function formatMoney(amount: number, currency: string): string {
  if (currency.length === 3) {
    try {
      return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(amount);
    } catch {
      // Not an ISO 4217 code Intl accepts: fall through to the plain form.
    }
  }
  return `${quantityFormat.format(amount)} ${currency}`;
}

/** `0.02` → `0.02`, up to 8 decimals (satoshi precision). */
export function formatQuantity(quantity: number): string {
  return quantityFormat.format(quantity);
}

/** Removes control characters (CR, LF, tabs…) so a value cannot break an SMS or a header line. */
export function singleLine(value: string): string {
  return value.replace(/\p{Cc}+/gu, " ").trim();
}

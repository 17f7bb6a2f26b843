/**
 * Numbers and dates in the customer's locale. Amounts arrive as plain decimal strings
 * (contract/decimal.ts) and `Intl.NumberFormat` formats a string exactly: the digits are never
 * rounded through a binary double, and the fraction is never cut (at most 18 digits arrive, and
 * 18 is the limit here), so `0.00000001` prints as `0.00000001`, never as `0`.
 */

import { boundedCache } from "../contract/bounded-cache.js";
import { MAX_FRACTION_DIGITS } from "../contract/decimal.js";

/** Building a formatter costs far more than using one; a few hundred cover every customer. */
const cachedNumberFormat = boundedCache<Intl.NumberFormat>(512);

function decimalFormat(locale: string): Intl.NumberFormat {
  return cachedNumberFormat(
    `${locale}|decimal`,
    () => new Intl.NumberFormat(locale, { maximumFractionDigits: MAX_FRACTION_DIGITS }),
  );
}

/** ISO 4217 codes; Intl would also accept any other three letters (BTC) and print `BTC 1.00`. */
const CURRENCIES = new Set(Intl.supportedValuesOf("currency"));

/** Undefined when `code` is not an ISO 4217 currency (USDT, BTC): those print as `1,000 USDT`. */
function currencyFormat(locale: string, code: string): Intl.NumberFormat | undefined {
  if (!CURRENCIES.has(code)) return undefined;
  try {
    return cachedNumberFormat(
      `${locale}|${code}`,
      () =>
        // The currency's own minimum digits stay ($1,000.00); the maximum only stops rounding.
        new Intl.NumberFormat(locale, {
          style: "currency",
          currency: code,
          maximumFractionDigits: MAX_FRACTION_DIGITS,
        }),
    );
  } catch {
    return undefined;
  }
}

/** `"0.02"` → `0.02` (en) or `0,02` (fr): every digit kept, the locale's separators. */
export function formatDecimal(locale: string, value: string): string {
  return decimalFormat(locale).format(value as Intl.StringNumericLiteral);
}

/** `"1000", "USD"` → `$1,000.00`; a code Intl does not know as a currency → `1,000 USDT`. */
export function formatMoney(locale: string, value: string, code: string): string {
  const currency = currencyFormat(locale, code);
  if (currency) return currency.format(value as Intl.StringNumericLiteral);
  return `${formatDecimal(locale, value)} ${code}`;
}

const cachedDateFormat = boundedCache<Intl.DateTimeFormat>(512);

function dateFormat(locale: string, timeZone: string): Intl.DateTimeFormat {
  return cachedDateFormat(
    `${locale}|${timeZone}`,
    () =>
      new Intl.DateTimeFormat(locale, {
        year: "numeric",
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        timeZone,
        timeZoneName: "short",
      }),
  );
}

/** An instant in the customer's zone and in UTC, each with its zone's name. */
export function formatInstant(
  locale: string,
  iso: string,
  timeZone: string,
): { local: string; utc: string } {
  const instant = new Date(iso);
  return {
    local: dateFormat(locale, timeZone).format(instant),
    utc: dateFormat(locale, "UTC").format(instant),
  };
}

/** Removes control characters (CR, LF, tabs…) so a value cannot break an SMS or a header line. */
export function singleLine(value: string): string {
  return value.replace(/\p{Cc}+/gu, " ").trim();
}

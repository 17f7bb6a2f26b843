/**
 * Exact decimal amounts. Exchanges keep amounts as decimal strings ("0.00000001") because binary
 * floats cannot hold them; existing producers send JSON numbers. Both are accepted and both
 * travel on as a plain decimal string, which `Intl.NumberFormat` formats exactly.
 */
import { z } from "zod";

/** Digits either side of the point: enough for any asset (18 = wei), short enough for one SMS. */
export const MAX_INTEGER_DIGITS = 18;
export const MAX_FRACTION_DIGITS = 18;
/**
 * Digits before the point of a digest's totals: the sum of up to 10,000 fills (DIGEST_MAX_FILLS'
 * ceiling) of at most 18 integer digits each stays under 10^22.
 */
export const MAX_TOTAL_INTEGER_DIGITS = MAX_INTEGER_DIGITS + 4;

function plainDecimal(integerDigits: number): RegExp {
  return new RegExp(`^(0|[1-9]\\d{0,${integerDigits - 1}})(\\.\\d{1,${MAX_FRACTION_DIGITS}})?$`);
}

/**
 * A JSON number as the decimal its producer wrote: the shortest string that reads back as the
 * same double (what `String` gives), with any exponent written out (`1e-9` → `0.000000001`).
 */
export function numberToDecimalString(value: number): string {
  const shortest = String(value);
  const match = /^(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(shortest);
  if (!match) return shortest;
  const [, whole = "", fraction = "", exponentText = "0"] = match;
  const digits = whole + fraction;
  const point = whole.length + Number(exponentText);
  if (point <= 0) return `0.${"0".repeat(-point)}${digits}`.replace(/\.?0+$/, "");
  if (point >= digits.length) return digits + "0".repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

function isZero(decimal: string): boolean {
  return /^0(\.0+)?$/.test(decimal);
}

/** A decimal string or number, as a plain decimal string; `positive` refuses zero. */
function decimal(positive: boolean, integerDigits = MAX_INTEGER_DIGITS) {
  const pattern = plainDecimal(integerDigits);
  const message = `must be a decimal number (a JSON number or a string such as "0.00000001") with at most ${integerDigits} digits before the point and ${MAX_FRACTION_DIGITS} after`;
  return z
    .union([z.number(), z.string()], {
      // "received undefined" is what the gateway's error shape turns into "is required".
      error: (issue) =>
        issue.input === undefined ? "expected a decimal, received undefined" : message,
    })
    .transform((value, ctx) => {
      if (typeof value === "number" && value < 0) {
        ctx.addIssue({
          code: "custom",
          message: positive ? "must be greater than 0" : "must not be negative",
        });
        return z.NEVER;
      }
      const text = typeof value === "number" ? numberToDecimalString(value) : value;
      if (!pattern.test(text)) {
        ctx.addIssue({ code: "custom", message });
        return z.NEVER;
      }
      if (positive && isZero(text)) {
        ctx.addIssue({ code: "custom", message: "must be greater than 0" });
        return z.NEVER;
      }
      return text;
    });
}

/** An amount, quantity or price: greater than zero. */
export const positiveDecimal = decimal(true);
/** A fee: zero allowed. */
export const nonNegativeDecimal = decimal(false);
/** A digest's total or average (worker/digest/): greater than zero, up to 22 integer digits. */
export const positiveTotal = decimal(true, MAX_TOTAL_INTEGER_DIGITS);

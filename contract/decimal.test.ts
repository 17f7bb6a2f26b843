import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  nonNegativeDecimal,
  numberToDecimalString,
  positiveDecimal,
  positiveTotal,
} from "./decimal.js";

describe("decimal amounts", () => {
  it("keeps any decimal string with up to 18 digits either side exactly as written", () => {
    const digits = (min: number, max: number) =>
      fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: min, maxLength: max });
    fc.assert(
      fc.property(
        digits(0, 17),
        digits(1, 18),
        fc.constantFrom("1", "5", "9"),
        (whole, fraction, lead) => {
          const decimal = `${lead}${whole}.${fraction}`;
          expect(positiveDecimal.parse(decimal)).toBe(decimal);
        },
      ),
    );
  });

  it.each([
    [1e-9, "0.000000001"],
    [0.02, "0.02"],
    [1000, "1000"],
    [1.5e-7, "0.00000015"],
    [1e17, "100000000000000000"],
    [123.456, "123.456"],
  ])("writes the number %s out as %s", (value, text) => {
    expect(numberToDecimalString(value)).toBe(text);
    expect(positiveDecimal.parse(value)).toBe(text);
  });

  it.each([
    ["0", "must be greater than 0"],
    ["0.000", "must be greater than 0"],
    [-1, "must be greater than 0"],
    [1e308, "must be a decimal number"],
    ["1e308", "must be a decimal number"],
    ["01.5", "must be a decimal number"],
    [".5", "must be a decimal number"],
    ["1.", "must be a decimal number"],
    ["1234567890123456789", "must be a decimal number"],
    ["0.1234567890123456789", "must be a decimal number"],
    [Number.NaN, "must be a decimal number"],
    [Number.POSITIVE_INFINITY, "must be a decimal number"],
  ])("refuses %s", (value, message) => {
    const result = positiveDecimal.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(message);
  });

  it("accepts a zero fee but not a negative one", () => {
    expect(nonNegativeDecimal.parse("0")).toBe("0");
    expect(nonNegativeDecimal.safeParse(-0.5).error?.issues[0]?.message).toBe(
      "must not be negative",
    );
  });

  it("takes a digest's totals up to 22 integer digits, what 10,000 fills can add up to", () => {
    expect(positiveTotal.parse("9999999999999999999999.5")).toBe("9999999999999999999999.5");
    expect(positiveTotal.safeParse("10000000000000000000000").error?.issues[0]?.message).toMatch(
      "at most 22 digits before the point",
    );
  });
});

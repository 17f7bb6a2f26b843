import { describe, expect, it } from "vitest";
import { totalFills } from "./totals.js";

describe("totalFills", () => {
  it("adds forty 0.1 fills to exactly 4 (floats give 4.000000000000001)", () => {
    const fills = Array.from({ length: 40 }, () => ({ quantity: "0.1", amount: "0.3" }));
    expect(totalFills(fills)).toEqual({
      count: 40,
      quantity: "4",
      amount: "12",
      averagePrice: "3",
    });
  });

  it("weights the average price by quantity when every fill has a price", () => {
    const totals = totalFills([
      { quantity: "1", amount: "100", price: "100" },
      { quantity: "3", amount: "330", price: "110" },
    ]);
    // (100×1 + 110×3) / 4 = 107.5, not the plain mean 105
    expect(totals).toEqual({ count: 2, quantity: "4", amount: "430", averagePrice: "107.5" });
  });

  it("divides total amount by total quantity when a fill has no price", () => {
    const totals = totalFills([
      { quantity: "1", amount: "100", price: "100" },
      { quantity: "2", amount: "201" },
    ]);
    expect(totals.averagePrice).toBe("100.333333333333333333");
  });

  it("keeps 18-decimal quantities exact", () => {
    const totals = totalFills([
      { quantity: "0.000000000000000001", amount: "999999999999999999.5" },
      { quantity: "0.000000000000000002", amount: "0.5" },
    ]);
    expect(totals.quantity).toBe("0.000000000000000003");
    expect(totals.amount).toBe("1000000000000000000");
  });

  it("refuses an empty digest", () => {
    expect(() => totalFills([])).toThrow("at least one fill");
  });
});

/**
 * The figures a digest reports, in exact decimal arithmetic. big.js rather than floats: a sum of
 * forty 0.1 BTC fills must read 4, not 4.000000000000001; rather than hand-written string
 * arithmetic: big.js is small (no dependencies), exact for + and ×, and rounds division by a
 * stated rule.
 */
import BigBase from "big.js";
import { MAX_FRACTION_DIGITS } from "../../contract/decimal.js";

// A private constructor, so these settings change no other user of big.js.
const Big = BigBase();
/** Division (the average price) keeps as many decimals as an input may have. */
Big.DP = MAX_FRACTION_DIGITS;
Big.RM = BigBase.roundHalfEven;

/** One fill as the digest collected it: plain decimal strings from the job's data. */
export interface CollectedFill {
  quantity: string;
  amount: string;
  price?: string;
}

/** A digest's figures, as plain decimal strings. */
export interface FillTotals {
  count: number;
  quantity: string;
  amount: string;
  /** Volume-weighted: Σ(price × quantity) / Σquantity when every fill has a price, else amount / quantity. */
  averagePrice: string;
}

/** Totals and volume-weighted average price of `fills` (at least one). */
export function totalFills(fills: readonly CollectedFill[]): FillTotals {
  if (fills.length === 0) throw new Error("a digest has at least one fill");
  let quantity = new Big(0);
  let amount = new Big(0);
  let priced = new Big(0);
  let everyFillPriced = true;
  for (const fill of fills) {
    quantity = quantity.plus(fill.quantity);
    amount = amount.plus(fill.amount);
    if (fill.price === undefined) everyFillPriced = false;
    else priced = priced.plus(new Big(fill.price).times(fill.quantity));
  }
  const averagePrice = (everyFillPriced ? priced : amount).div(quantity);
  return {
    count: fills.length,
    quantity: quantity.toFixed(),
    amount: amount.toFixed(),
    averagePrice: averagePrice.toFixed(),
  };
}

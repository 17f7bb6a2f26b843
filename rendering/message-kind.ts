/** A notification's values, formatted for the customer's locale and time zone. */
export interface FormattedValues {
  asset: string;
  quantity: string;
  /** `amount` in `currency`. */
  amount: string;
  price?: string | undefined;
  fee?: string | undefined;
  /** The instant in the customer's zone with UTC beside it. */
  executedAt?: string | undefined;
  /** The side's label (Buy, Sell) in the customer's language. */
  side?: string | undefined;
  order: string;
  /** A digest's number of fills (docs/digests.md). */
  fills?: string | undefined;
}

/**
 * What a kind of message shows besides its catalog's subject, headline and SMS: its facts
 * (label key → value, left out when undefined) and whether it carries the security line.
 */
export interface MessageKind<Values = FormattedValues> {
  facts(values: Values): Array<[labelKey: string, value: string | undefined]>;
  /** "If this wasn't you, …" with the support link: for withdrawals and login-like messages. */
  securityNotice: boolean;
}

import { SegmentedMessage } from "sms-segments-calculator";

/**
 * Spaces Intl puts in numbers and dates (no-break U+00A0, narrow no-break U+202F, thin U+2009)
 * are not in the GSM-7 alphabet: one of them would send the whole SMS as UCS-2, at 70 instead
 * of 160 characters a segment. A plain space reads the same on a phone.
 */
const NON_GSM_SPACES = /[\u00a0\u2007\u2009\u202f]/g;

/** An SMS body on one line, with Intl's special spaces made plain. */
export function smsText(text: string): string {
  return text
    .replace(/\p{Cc}+/gu, " ")
    .replace(NON_GSM_SPACES, " ")
    .trim();
}

/** How a carrier splits an SMS: encoding and segment count (160/153 GSM-7, 70/67 UCS-2). */
export function smsSegments(text: string): { encoding: "GSM-7" | "UCS-2"; segments: number } {
  const message = new SegmentedMessage(text);
  return { encoding: message.encodingName, segments: message.segmentsCount };
}

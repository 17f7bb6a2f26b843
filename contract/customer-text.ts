/**
 * The rules for request values printed in a customer's SMS and email (order ids, references,
 * asset codes). Such a value is data: it must not carry a link, a sentence, hidden characters or
 * look-alike letters into a message that reads as the exchange's own (docs/security.md).
 */
import { LinkifyIt } from "linkify-it";
import tlds from "tlds";
import { z } from "zod";
import { boundedCache } from "./bounded-cache.js";

/**
 * Link detection as clients do it: linkify-it (markdown-it's linkifier) finds URLs with a scheme,
 * schemeless hosts (`bit.ly/3xYzAb`) and email addresses. Fuzzy hosts are judged against every
 * IANA top-level domain (`tlds`), as phone and mail clients judge them, instead of linkify-it's
 * short default list; no TLD has one letter, so `USDC.e` and `BRK.B` stay plain text.
 */
const linkify = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: true, fuzzyIP: true }).tlds(tlds);

/** Mail clients link a `www.` host whatever follows it, even a TLD no registry knows. */
const WWW_HOST = /(?:^|[^\p{L}\p{N}])www\./iu;

/**
 * Characters that draw nothing or hide what follows: controls, format characters (zero-width,
 * bidi), default-ignorable code points, private-use, unassigned and lone surrogates, and the
 * blank letters that are none of those (Hangul fillers, the braille blank).
 */
const INVISIBLE =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}\p{Default_Ignorable_Code_Point}\u115F\u1160\u3164\uFFA0\u2800]/u;

/** Three marks or more on one character: enough to draw over the lines around it. */
const COMBINING_RUN = /\p{M}{3}/u;

const WHITESPACE = /\p{White_Space}/u;

/** Scripts told apart for look-alikes: Latin's confusable neighbours first. */
const SCRIPTS = ["Latin", "Cyrillic", "Greek", "Armenian", "Cherokee", "Coptic", "Georgian"].map(
  (name) => [name, new RegExp(`\\p{Script=${name}}`, "u")] as const,
);

const NON_ASCII = /\P{ASCII}/u;

/** The scripts of a value's letters, in SCRIPTS' order; `other` for any script not listed. */
function scriptsOf(value: string): string[] {
  // ASCII letters are all Latin: the common case needs no look-up per letter.
  if (!NON_ASCII.test(value)) return ["Latin"];
  const found = new Set<string>();
  for (const letter of value.match(/\p{L}/gu) ?? []) {
    found.add(SCRIPTS.find(([, pattern]) => pattern.test(letter))?.[0] ?? "other");
  }
  return [...found];
}

function codePoint(character: string): string {
  return (character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
}

/**
 * The first rule `value` breaks, as the 400's message words it, or undefined. The rules come
 * before the alphabet so that a refusal names the threat (a link, a filler) rather than only
 * the characters allowed.
 */
export function brokenTextRule(value: string): string | undefined {
  const hidden = INVISIBLE.exec(value);
  if (hidden)
    return `must not contain invisible, filler or control characters (found U+${codePoint(hidden[0])})`;
  if (COMBINING_RUN.test(value)) return "must not stack more than 2 combining marks on a character";
  if (WWW_HOST.test(value) || linkify.test(value))
    return "must not contain a link or email address: mail and SMS clients make them tappable";
  if (WHITESPACE.test(value)) return "must not contain spaces or line breaks";
  const scripts = scriptsOf(value);
  if (scripts.length > 1)
    return `must not mix letters of different scripts (${scripts.join(", ")}): look-alikes`;
  return undefined;
}

/** A customer-visible id: NFC, then the text rules, then its length and alphabet. */
export function customerVisibleId(spec: {
  maxLength: number;
  alphabet: RegExp;
  /** Says the length and the alphabet, for a value outside either. */
  alphabetRule: string;
  /** Remembers verdicts, for values that repeat across requests (asset codes). */
  remembered?: boolean;
}) {
  const verdicts = spec.remembered ? boundedCache<string>(1000) : undefined;
  const judge = (value: string) =>
    verdicts
      ? verdicts(value, () => brokenTextRule(value) ?? "") || undefined
      : brokenTextRule(value);
  return (
    z
      .string()
      // Judged and stored as the customer's client draws it: composed (NFC).
      .normalize("NFC")
      .superRefine((value, ctx) => {
        const rule = judge(value);
        if (rule) ctx.addIssue({ code: "custom", message: rule, continue: false });
      })
      .min(1, { message: spec.alphabetRule, abort: true })
      .max(spec.maxLength, { message: spec.alphabetRule, abort: true })
      .regex(spec.alphabet, spec.alphabetRule)
  );
}

/**
 * Order ids and references: ASCII letters, digits and `. _ -`, a letter or digit at each end
 * (`ord-8f3a2c1e`, a UUID). ASCII leaves no room for look-alikes or marks.
 */
export const orderId = customerVisibleId({
  maxLength: 128,
  alphabet: /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/,
  alphabetRule:
    "must be 1-128 ASCII letters, digits or . _ -, starting and ending with a letter or digit",
});

/**
 * Asset codes: ASCII letters and digits in groups joined by one `.`, `_` or `-` (`USDC.e`).
 * Their verdicts are remembered: an exchange lists a few hundred assets, and linkify-it takes
 * microseconds a value.
 */
export const assetCode = customerVisibleId({
  remembered: true,
  maxLength: 20,
  alphabet: /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/,
  alphabetRule:
    "must be 1-20 ASCII letters or digits, in groups joined by one of . _ - (BTC, USDC.e, BTC-PERP)",
});

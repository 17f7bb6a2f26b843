import { createRequire } from "node:module";
import type { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { ADMIN_SCOPE_PREFIX, KNOWN_KEYS } from "./api-keys.js";

/** A secret the gateway reads, as an env issue names it: `API_KEYS.0`, `ADMIN_PASSWORD`. */
export interface WeakSecret {
  path: Array<string | number>;
  message: string;
}

/**
 * A key's estimate, in guesses, below which it is made of patterns: random keys of 128 bits are
 * estimated at 10^21 or more (22 base64url characters; 32 hex digits at 10^29), keys made of words
 * and sequences such as `test-key-0123456789abcdef` at about 10^12.
 */
const KEY_MIN_GUESSES_LOG10 = 20;
/** zxcvbn's top score (10^10 guesses and more): its "very unguessable". */
const PASSWORD_MIN_SCORE = 4;
/** Minimum admin password length in production (12 elsewhere). */
const PRODUCTION_ADMIN_PASSWORD_LENGTH = 16;

const ALPHABETS: Array<[RegExp, number]> = [
  [/^[0-9a-f]+$/i, 16],
  [/^[A-Za-z0-9]+$/, 62],
  [/^[A-Za-z0-9_-]+$/, 64],
  [/^[\x21-\x7e]+$/, 94],
];

type Estimate = ReturnType<ZxcvbnFactory["check"]>;

/**
 * zxcvbn-ts with the common passwords, diceware words, English words and first names, loaded for
 * one use and unloaded after it: its dictionaries hold about 10 MB of the gateway's 96 MB heap
 * while loaded, and are needed only at start. Loaded through `require` so the bundle leaves them
 * in node_modules and Node can drop them from its module cache (an ES module stays loaded).
 */
function withEstimator<T>(use: (check: (secret: string) => Estimate) => T): T {
  const load = createRequire(import.meta.url);
  const before = new Set(Object.keys(load.cache));
  try {
    const { ZxcvbnFactory } = load("@zxcvbn-ts/core") as typeof import("@zxcvbn-ts/core");
    const common = load(
      "@zxcvbn-ts/language-common",
    ) as typeof import("@zxcvbn-ts/language-common");
    const en = load("@zxcvbn-ts/language-en") as typeof import("@zxcvbn-ts/language-en");
    const zxcvbn = new ZxcvbnFactory({
      dictionary: {
        ...common.dictionary,
        "commonWords-en": en.dictionary["commonWords-en"],
        "firstnames-en": en.dictionary["firstnames-en"],
      },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
      // Ten substitutions find p@ssw0rd; the default 100 takes half a second on a 64-digit key.
      l33tMaxSubstitutions: 10,
    });
    return use((secret) => zxcvbn.check(secret));
  } finally {
    for (const id of Object.keys(load.cache)) if (!before.has(id)) delete load.cache[id];
  }
}

/** zxcvbn's warning as a clause, without its full stop. */
function warningOf(estimate: Estimate): string | undefined {
  return estimate.feedback.warning?.replace(/\.$/, "") || undefined;
}

/**
 * Why a key is too weak for production, or undefined. A key needs 128 bits by its alphabet (its
 * length times the bits per character of the smallest usual alphabet holding it: 32 hex digits,
 * or 22 base64url characters), and no pattern a guesser tries first: zxcvbn-ts's estimate of it
 * must reach 10^20 guesses, which random keys do and sequences, repeats and words do not.
 */
function weakKeyReason(entry: string, check: (secret: string) => Estimate): string | undefined {
  const value = entry.startsWith(ADMIN_SCOPE_PREFIX)
    ? entry.slice(ADMIN_SCOPE_PREFIX.length)
    : entry;
  if (KNOWN_KEYS.includes(value)) return "is a placeholder or well-known key";
  const bitsPerChar = ALPHABETS.find(([pattern]) => pattern.test(value))?.[1] ?? 94;
  const bits = value.length * Math.log2(bitsPerChar);
  if (bits < 128)
    return `has about ${Math.floor(bits)} bits; 128 are needed (openssl rand -hex 32)`;
  const estimate = check(value);
  if (estimate.guessesLog10 >= KEY_MIN_GUESSES_LOG10) return undefined;
  const why = warningOf(estimate) ?? "it is made of words, sequences or repeats";
  return `is guessable: ${why} (a strength estimator puts it at about 10^${Math.floor(estimate.guessesLog10)} guesses; a generated key is above 10^${KEY_MIN_GUESSES_LOG10}: openssl rand -hex 32)`;
}

/** Why an admin password is too weak for production, or undefined. */
function weakPasswordReason(
  password: string,
  check: (secret: string) => Estimate,
): string | undefined {
  if (password.length < PRODUCTION_ADMIN_PASSWORD_LENGTH) {
    return `must be at least ${PRODUCTION_ADMIN_PASSWORD_LENGTH} characters in production`;
  }
  const estimate = check(password);
  if (estimate.score >= PASSWORD_MIN_SCORE) return undefined;
  const why = warningOf(estimate);
  return `is weak${why ? `: ${why}` : ""} (a strength estimator rates it ${estimate.score} of ${PASSWORD_MIN_SCORE}; production needs ${PASSWORD_MIN_SCORE})`;
}

/**
 * The API keys and the admin password a strength estimator rates weak: production refuses them
 * (gateway/env.ts), other environments start with a warning per secret (gateway/server.ts).
 * API_KEY_HASHES cannot be rated: a digest does not show its key's strength.
 */
export function weakSecrets(env: {
  API_KEYS: readonly string[];
  ADMIN_PASSWORD?: string | undefined;
}): WeakSecret[] {
  if (env.API_KEYS.length === 0 && env.ADMIN_PASSWORD === undefined) return [];
  return withEstimator((check) => {
    const weak: WeakSecret[] = [];
    env.API_KEYS.forEach((entry, index) => {
      const message = weakKeyReason(entry, check);
      if (message) weak.push({ path: ["API_KEYS", index], message });
    });
    if (env.ADMIN_PASSWORD !== undefined) {
      const message = weakPasswordReason(env.ADMIN_PASSWORD, check);
      if (message) weak.push({ path: ["ADMIN_PASSWORD"], message });
    }
    return weak;
  });
}

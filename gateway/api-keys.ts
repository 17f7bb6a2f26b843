import { hash, timingSafeEqual } from "node:crypto";

/** `admin:<key>` in API_KEYS (or `admin:<sha256 hex>` in API_KEY_HASHES) marks an admin-scoped key. */
export const ADMIN_SCOPE_PREFIX = "admin:";

/** An accepted key, as the gateway keeps it: its digest, its public id and its scope. */
export interface AcceptedKey {
  digest: Buffer;
  /** A stable, non-secret name: the first 16 hex digits of the key's SHA-256. Logged, never the key. */
  id: string;
  /** Admin keys see every notification, direct producers' included; others only their own. */
  admin: boolean;
}

/** One-shot hashing: half the time of createHash().update().digest() for a key-sized input. */
function sha256(value: string): Buffer {
  return hash("sha256", value, "buffer") as Buffer;
}

/** The public id of a key. */
export function apiKeyId(key: string): string {
  return sha256(key).toString("hex").slice(0, 16);
}

function scoped(entry: string): { value: string; admin: boolean } {
  return entry.startsWith(ADMIN_SCOPE_PREFIX)
    ? { value: entry.slice(ADMIN_SCOPE_PREFIX.length), admin: true }
    : { value: entry, admin: false };
}

/** The accepted keys from API_KEYS (plaintext) and API_KEY_HASHES (SHA-256 hex digests). */
export function acceptedKeys(
  apiKeys: readonly string[],
  apiKeyHashes: readonly string[] = [],
): AcceptedKey[] {
  return [
    ...apiKeys.map((entry) => {
      const { value, admin } = scoped(entry);
      const digest = sha256(value);
      return { digest, id: digest.toString("hex").slice(0, 16), admin };
    }),
    ...apiKeyHashes.map((entry) => {
      const { value, admin } = scoped(entry);
      return { digest: Buffer.from(value, "hex"), id: value.toLowerCase().slice(0, 16), admin };
    }),
  ];
}

/**
 * The accepted key a presented key matches, or undefined. The candidate is hashed first so every
 * comparison is between equal-length digests, and every accepted key is compared (no early
 * exit): the time taken does not tell how close a guess was.
 */
export function matchKey(keys: readonly AcceptedKey[], presented: string): AcceptedKey | undefined {
  const candidate = sha256(presented);
  let match: AcceptedKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(candidate, key.digest)) match = key;
  }
  return match;
}

/**
 * `matchKey` that remembers the keys it verified: a presented key that matched once is found in
 * a Map afterwards, without a SHA-256 per request. Only matches are kept, one entry per accepted key at most (the accepted keys are fixed
 * at start); a wrong key always takes the hashed, constant-time comparison, and telling a hit
 * from a miss by its timing tells an attacker nothing the answer does not.
 */
export function keyMatcher(
  keys: readonly AcceptedKey[],
): (presented: string) => AcceptedKey | undefined {
  const verified = new Map<string, AcceptedKey>();
  return (presented) => {
    const known = verified.get(presented);
    if (known) return known;
    const match = matchKey(keys, presented);
    if (match) verified.set(presented, match);
    return match;
  };
}

/** The `.env.example` placeholder, and keys anyone would try: refused in production. */
export const KNOWN_KEYS = [
  "change-me-0123456789abcdef",
  "",
  "a",
  "test",
  "password",
  "secret",
  "changeme",
];
const KNOWN_DIGESTS = new Set(KNOWN_KEYS.map((key) => sha256(key).toString("hex")));

/** Why a key digest must not be accepted in production, or undefined. */
export function weakDigestReason(entry: string): string | undefined {
  return KNOWN_DIGESTS.has(scoped(entry).value.toLowerCase())
    ? "is the digest of a placeholder or well-known key"
    : undefined;
}

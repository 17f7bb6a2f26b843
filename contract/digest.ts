/**
 * Digests of partial fills (docs/digests.md): the per-request policy override a producer may
 * send, and the marker a digest job carries. Shared by the gateway (validation, OpenAPI) and the
 * worker (policy resolution, digest jobs).
 */
import { createHash } from "node:crypto";
import { z } from "zod";

/** Bounds of a per-request window and maximum wait: a second at least, an hour at most. */
export const DIGEST_MIN_MS = 1000;
export const DIGEST_MAX_MS = 60 * 60 * 1000;

const digestDuration = z.number().int().min(DIGEST_MIN_MS).max(DIGEST_MAX_MS);

/** One channel's override: `false` sends each fill alone; an object digests with these timings. */
const channelDigestOverride = z.union([
  z.literal(false),
  z
    .strictObject({
      windowMs: digestDuration
        .optional()
        .describe(
          "Send the digest when no fill came for this long; the configured window when omitted.",
        ),
      maxWaitMs: digestDuration
        .optional()
        .describe(
          "Send the digest at the latest this long after its first fill; the configured maximum when omitted.",
        ),
    })
    .refine(
      (timing) =>
        timing.windowMs === undefined ||
        timing.maxWaitMs === undefined ||
        timing.windowMs <= timing.maxWaitMs,
      { message: "windowMs must not exceed maxWaitMs", path: ["windowMs"] },
    ),
]);

/**
 * Per-request digest policy of a fill (`fill` given), per channel; a channel left out follows the
 * worker's configuration (DIGEST_* variables).
 */
export const digestOverrideSchema = z
  .strictObject({ sms: channelDigestOverride.optional(), email: channelDigestOverride.optional() })
  .describe(
    "For fills: per channel, false to send each fill alone, or { windowMs, maxWaitMs } (1000 to 3600000) to digest them; the worker's configuration when omitted.",
  );
export type DigestOverride = z.output<typeof digestOverrideSchema>;

/** Job name of a digest job; the worker goes by `digestOf` in its data, not by the name. */
export const TRADE_DIGEST_JOB = "trade.digest";

/** What a digest job's data carries besides the recipient: which collection it sends. */
export const digestMarkerSchema = z.object({
  channel: z.enum(["email", "sms"]),
  /** The collection's Redis key (under the queue prefix) without its sequence. */
  group: z.string().min(1),
  /** Which digest of the order and recipient this is: 1, 2, … */
  seq: z.number().int().positive(),
});
export type DigestMarker = z.output<typeof digestMarkerSchema>;

/**
 * Whose digest a fill joins: the API key that submitted it (the job's `submittedBy`); jobs that
 * direct producers add carry none and are one tenant of their own. A digest is keyed by tenant,
 * order and recipient, so no key can add to, or pre-empt, another key's digest.
 */
export function digestTenantOf(submittedBy: unknown): string {
  return typeof submittedBy === "string" ? `key:${submittedBy}` : "direct";
}

/** What every fill of an order shares; a fill that differs from the order's first is refused. */
export const FILL_TERMS = ["asset", "side", "currency"] as const;
export type FillTerms = { asset: string; side?: string | undefined; currency: string };

/**
 * The Redis key of an order's record (under the queue's prefix, `<prefix>:<queue>`, so in its
 * Redis Cluster slot): a hash of the first fill's terms (FILL_TERMS) and, per fill id, the job
 * that carries that fill (`fill:<id>`). The worker writes it; the gateway reads the terms.
 * Hashed: no order id in a key name.
 */
export function fillOrderKey(queueKeyPrefix: string, tenant: string, order: string): string {
  const hash = createHash("sha256").update(`${tenant}\n${order}`).digest("hex").slice(0, 32);
  return `${queueKeyPrefix}:digest:order:${hash}`;
}

/**
 * Why `fill` contradicts its order's first fill, whose terms `first` lists in FILL_TERMS order
 * (null where unknown), or undefined when it does not. A term either fill leaves out (`side`)
 * contradicts nothing. The worker's script applies the same rule.
 */
export function fillContradiction(
  fillId: string,
  first: readonly (string | null | undefined)[],
  fill: FillTerms,
): string | undefined {
  for (const [index, term] of FILL_TERMS.entries()) {
    const given = fill[term];
    const theirs = first[index];
    if (given && theirs && given !== theirs)
      return contradictionMessage(fillId, term, given, theirs);
  }
  return undefined;
}

/** `Fill f2 contradicts its order's first fill: asset is ETH, the order's is BTC` */
export function contradictionMessage(
  fillId: string,
  term: string,
  given: string,
  theirs: string,
): string {
  return `Fill ${fillId} contradicts its order's first fill: ${term} is ${given}, the order's is ${theirs}`;
}

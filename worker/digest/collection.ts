/**
 * The fills of an order collected in Redis until their digest is sent. One collection per
 * channel, tenant (the submitting key), order and recipient (`group`), numbered by a sequence:
 * once a digest job closes its collection, or it holds `maxFills` fills, the next fill starts the
 * next one. Every step is one Lua script, so a worker dying anywhere leaves either the whole step
 * or none of it.
 *
 * Keys, under the queue's prefix so they share its Redis Cluster slot (a cluster prefix must carry
 * a hash tag, which env.ts enforces), with G = `<prefix>:<queue>:digest:<channel>:<hash>`:
 *   G          hash: seq (the open collection), finalAt (the order's final fill came)
 *   G:seen     hash: fill id → the seq it went into (a repeated fill counts once, even later)
 *   G:<seq>    hash: firstAt, count, due, payload, closedBy (the digest job), totals once computed
 *   G:<seq>:fills  hash: fill id → its figures; deleted once the totals are stored (trimmed)
 * and, per tenant and order, O = fillOrderKey (contract/digest.ts):
 *   O          hash: asset, side, currency (the order's first fill's), fill:<id> → its first job
 * Each key lives `ttlMs` after its last write: long enough for a failed digest to be retried.
 */
import { createHash } from "node:crypto";
import type { Channel } from "../../contract/channels.js";
import { type FillTerms, fillOrderKey } from "../../contract/digest.js";
import type { RedisConnection } from "../../lib/redis.js";
import { redisScript } from "../../lib/redis-script.js";
import type { DigestTiming } from "./policy.js";
import type { CollectedFill, FillTotals } from "./totals.js";

/**
 * Claims a fill for its order: checks its terms (ARGV[3..5]: asset, side, currency; '' for none)
 * against the order's first fill's, which the first fill sets, and records job ARGV[2] as the
 * fill's unless another job has it. Answers {'conflict', term, the order's value} or {'ok', the
 * job that has the fill}. The terms rule is fillContradiction's (contract/digest.ts).
 */
const CLAIM_FILL = redisScript(`
local rcall = redis.call
local key = KEYS[1]
local terms = {'asset', 'side', 'currency'}
local first = rcall('HMGET', key, unpack(terms))
for index, term in ipairs(terms) do
  local given = ARGV[2 + index]
  if first[index] and given ~= '' and first[index] ~= given then
    return {'conflict', term, first[index]}
  end
end
for index, term in ipairs(terms) do
  if ARGV[2 + index] ~= '' then rcall('HSETNX', key, term, ARGV[2 + index]) end
end
rcall('HSETNX', key, 'fill:' .. ARGV[1], ARGV[2])
rcall('PEXPIRE', key, ARGV[6])
return {'ok', rcall('HGET', key, 'fill:' .. ARGV[1])}`);

/**
 * Records a fill once; answers { seq, added (1/0), closedBy ('' while open), due (epoch ms),
 * sooner (1 when this fill made the collection's due earlier than it was) }.
 */
const RECORD_FILL = redisScript(`
local rcall = redis.call
local group = KEYS[1]
local seenKey = group .. ':seen'
local fillId, now, ttl = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[10])
local seen = rcall('HGET', seenKey, fillId)
if seen then
  local meta = group .. ':' .. seen
  return {tonumber(seen), 0, rcall('HGET', meta, 'closedBy') or '', tonumber(rcall('HGET', meta, 'due') or now), 0}
end
local seq = tonumber(rcall('HGET', group, 'seq') or '1')
local meta = group .. ':' .. seq
rcall('HSET', group, 'seq', seq)
rcall('HSET', seenKey, fillId, seq)
rcall('HSET', meta .. ':fills', fillId, ARGV[2])
rcall('HSETNX', meta, 'firstAt', now)
rcall('HSETNX', meta, 'payload', ARGV[3])
local count = rcall('HINCRBY', meta, 'count', 1)
if ARGV[8] == '1' then rcall('HSET', group, 'finalAt', now) end
local firstAt = tonumber(rcall('HGET', meta, 'firstAt'))
local due = math.min(now + tonumber(ARGV[5]), firstAt + tonumber(ARGV[6]))
if count >= tonumber(ARGV[7]) then
  -- Full: its digest goes now, and the next fill opens the next collection.
  due = now
  rcall('HSET', group, 'seq', seq + 1)
elseif rcall('HEXISTS', group, 'finalAt') == 1 then
  due = math.min(due, now + tonumber(ARGV[9]))
end
local previous = tonumber(rcall('HGET', meta, 'due') or '')
rcall('HSET', meta, 'due', due)
for _, key in ipairs({group, seenKey, meta, meta .. ':fills'}) do rcall('PEXPIRE', key, ttl) end
return {seq, 1, '', due, (previous and due < previous) and 1 or 0}`);

/**
 * Closes collection ARGV[1] for digest job ARGV[2] (again, after a crash: the same answer) and
 * opens the next, once its due time (ARGV[3] is now) has come. Answers {'missing'}, {'early',
 * due} while it is not due, {'stray', closedBy} for a job that did not close it, or {'closed',
 * payload, totals or '', fills as HGETALL}.
 */
const CLOSE_COLLECTION = redisScript(`
local rcall = redis.call
local group = KEYS[1]
local seq, jobId, now = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local meta = group .. ':' .. seq
if rcall('EXISTS', meta) == 0 then return {'missing'} end
local closedBy = rcall('HGET', meta, 'closedBy')
if not closedBy then
  local due = tonumber(rcall('HGET', meta, 'due') or now)
  if due > now then return {'early', due} end
  closedBy = jobId
  rcall('HSET', meta, 'closedBy', jobId)
  if tonumber(rcall('HGET', group, 'seq') or '1') <= seq then rcall('HSET', group, 'seq', seq + 1) end
end
if closedBy ~= jobId then return {'stray', closedBy} end
return {'closed', rcall('HGET', meta, 'payload'), rcall('HGET', meta, 'totals') or '', rcall('HGETALL', meta .. ':fills')}`);

/** A fill to record. */
export interface FillRecord {
  channel: Channel;
  /** The submitting key's tenant (digestTenantOf): another key's fills never join this digest. */
  tenant: string;
  order: string;
  recipient: string;
  fillId: string;
  final: boolean;
  figures: CollectedFill;
  /** What the digest message needs besides the totals (asset, currency, side…), as JSON. */
  payload: Record<string, unknown>;
  timing: DigestTiming;
}

/** A fill's claim on its order: the job that has it, or the term it contradicts. */
export type FillClaim =
  | { state: "ok"; jobId: string }
  | { state: "conflict"; term: string; orders: string };

/** Where a fill went: its collection, and whether that collection still waits for its digest. */
export interface RecordedFill {
  group: string;
  seq: number;
  /** False for a fill recorded before (a repeat, or this job run again). */
  added: boolean;
  /** The digest job that closed the collection; undefined while it is open. */
  closedBy?: string;
  /** When the digest is due (epoch ms). */
  due: number;
  /** This fill made the digest due sooner than it was: a digest job waiting longer must wake. */
  sooner: boolean;
}

/** A closed collection as its digest job reads it. */
export type ClosedCollection =
  | { state: "missing" }
  /** Not due yet: a later fill moved its due time to `due` (epoch ms). */
  | { state: "early"; due: number }
  | { state: "stray"; closedBy: string }
  | {
      state: "closed";
      payload: Record<string, unknown>;
      /** Stored once computed; the fills are gone then. */
      totals?: FillTotals;
      fills: CollectedFill[];
    };

/** The digest collections of one queue. */
export function createDigestCollections(options: {
  redis: RedisConnection;
  keyPrefix: string;
  maxFills: number;
  finalDelayMs: number;
  ttlMs: number;
}) {
  const { redis } = options;
  const groupOf = (channel: Channel, tenant: string, order: string, recipient: string) => {
    // Hashed: no phone number or email address in a key name (they show in SCAN, MONITOR).
    const hash = createHash("sha256")
      .update(`${tenant}\n${order}\n${recipient}`)
      .digest("hex")
      .slice(0, 32);
    return `${options.keyPrefix}:digest:${channel}:${hash}`;
  };
  return {
    /** Claims fill `fillId` of `order` for job `jobId`, checking its terms (CLAIM_FILL). */
    async claim(
      claim: { tenant: string; order: string; fillId: string; jobId: string },
      terms: FillTerms,
    ): Promise<FillClaim> {
      const key = fillOrderKey(options.keyPrefix, claim.tenant, claim.order);
      const [state, first, second] = (await CLAIM_FILL(
        redis,
        [key],
        [claim.fillId, claim.jobId, terms.asset, terms.side ?? "", terms.currency, options.ttlMs],
      )) as [string, string, string?];
      return state === "conflict"
        ? { state, term: first, orders: second ?? "" }
        : { state: "ok", jobId: first };
    },

    async record(fill: FillRecord, now = Date.now()): Promise<RecordedFill> {
      const group = groupOf(fill.channel, fill.tenant, fill.order, fill.recipient);
      const [seq, added, closedBy, due, sooner] = (await RECORD_FILL(
        redis,
        [group],
        [
          fill.fillId,
          JSON.stringify(fill.figures),
          JSON.stringify(fill.payload),
          now,
          fill.timing.windowMs,
          fill.timing.maxWaitMs,
          options.maxFills,
          fill.final ? "1" : "0",
          options.finalDelayMs,
          options.ttlMs,
        ],
      )) as [number, number, string, number, number];
      return {
        group,
        seq,
        added: added === 1,
        due,
        sooner: sooner === 1,
        ...(closedBy ? { closedBy } : {}),
      };
    },

    /** Closes the collection for digest job `jobId`, unless it is not due at `now`. */
    async close(
      group: string,
      seq: number,
      jobId: string,
      now = Date.now(),
    ): Promise<ClosedCollection> {
      const answer = (await CLOSE_COLLECTION(redis, [group], [seq, jobId, now])) as [
        string,
        ...unknown[],
      ];
      const [state] = answer;
      if (state === "missing") return { state };
      if (state === "early") return { state, due: Number(answer[1]) };
      if (state === "stray") return { state, closedBy: String(answer[1]) };
      const [, payload, totals, flat] = answer as [string, string, string, string[]];
      const fills: CollectedFill[] = [];
      for (let index = 1; index < flat.length; index += 2) {
        fills.push(JSON.parse(flat[index] ?? "{}") as CollectedFill);
      }
      return {
        state: "closed",
        payload: JSON.parse(payload) as Record<string, unknown>,
        ...(totals ? { totals: JSON.parse(totals) as FillTotals } : {}),
        fills,
      };
    },

    /** When the collection's digest is due (epoch ms), as its fills have set it. */
    async dueOf(group: string, seq: number): Promise<number | undefined> {
      const due = await redis.hget(`${group}:${seq}`, "due");
      return due === null ? undefined : Number(due);
    },

    /** Stores a closed collection's totals and drops its fills, in one transaction. */
    async trim(group: string, seq: number, totals: FillTotals): Promise<void> {
      const meta = `${group}:${seq}`;
      await redis
        .multi()
        .hset(meta, "totals", JSON.stringify(totals))
        .del(`${meta}:fills`)
        .pexpire(meta, options.ttlMs)
        .exec();
    },
  };
}

export type DigestCollections = ReturnType<typeof createDigestCollections>;

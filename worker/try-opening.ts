import type { Job } from "bullmq";
import type { Channel } from "../contract/channels.js";
import type { DeliveryReport } from "../contract/delivery-report.js";
import type { RedisConnection } from "../lib/redis.js";
import { redisScript } from "../lib/redis-script.js";
import type { SuppressionList } from "../lib/suppressions.js";
import {
  type Booking,
  type ProviderGate,
  RESERVE_SLOT_FUNCTION,
  type Reservation,
} from "./provider-gate.js";

/**
 * KEYS: the suppression hash, a (schedule, wait) pair per booking, then the job's hash, events
 * stream and meta hash when a record is asked for, then the look-alike sets to join with it.
 * ARGV: the bookings (JSON: spacing, notBefore, and `unless`, the 1-based suppression field that
 * cancels it, 0 for none), the suppression fields (JSON), the job id, its record (the progress
 * JSON), and per look-alike set its member and TTL (JSON). The record is written as BullMQ's
 * updateProgress (updateProgress-3.lua) writes progress, and only when nothing is suppressed and
 * every booked slot is free now: what the processor's record before the calls would have been;
 * the sets are joined as the adapter's `begin` joins them (create-worker.ts), with the record.
 */
const OPEN_TRY = redisScript(`${RESERVE_SLOT_FUNCTION}
local bookings = cjson.decode(ARGV[1])
local fields = cjson.decode(ARGV[2])
local suppressed = {}
local anySuppressed = false
if #fields > 0 then
  local found = redis.call('HMGET', KEYS[1], unpack(fields))
  for i = 1, #fields do
    suppressed[i] = found[i] and 1 or 0
    if found[i] then anySuppressed = true end
  end
end
local slots = {}
local allNow = true
for i, booking in ipairs(bookings) do
  if booking.unless > 0 and suppressed[booking.unless] == 1 then
    slots[i] = {-2}
  else
    slots[i] = reserveSlot(KEYS[2 * i], KEYS[2 * i + 1], booking.spacing, booking.notBefore)
    if slots[i][1] ~= 0 then allNow = false end
  end
end
local recorded = 0
local jobKey = KEYS[2 * #bookings + 2]
if jobKey and not anySuppressed and allNow and redis.call('EXISTS', jobKey) == 1 then
  local eventsKey = KEYS[2 * #bookings + 3]
  local metaKey = KEYS[2 * #bookings + 4]
  local maxEvents = redis.call('HGET', metaKey, 'opts.maxLenEvents')
  if not maxEvents then
    maxEvents = 10000
    redis.call('HSET', metaKey, 'opts.maxLenEvents', maxEvents)
  end
  redis.call('HSET', jobKey, 'progress', ARGV[4])
  redis.call('XADD', eventsKey, 'MAXLEN', '~', maxEvents, '*', 'event', 'progress',
    'jobId', ARGV[3], 'data', ARGV[4])
  for i, join in ipairs(cjson.decode(ARGV[5])) do
    local key = KEYS[2 * #bookings + 4 + i]
    redis.call('SADD', key, join[1])
    redis.call('PEXPIRE', key, join[2])
  end
  recorded = 1
end
return {suppressed, slots, recorded}`);

/** What a try is opened with. */
export interface TryOpeningRequest {
  /** Channels whose recipient is checked against the suppression list. */
  candidates: Array<{ channel: Channel; recipient: string }>;
  /** Channels that need a provider slot, unless their recipient (a candidate) is suppressed. */
  bookings: Array<{ channel: Channel; provider: string }>;
  /**
   * The record written before the calls (the job's progress), when every booked slot is free now
   * and no candidate is suppressed; omitted when no channel records its calls first.
   */
  record?: DeliveryReport;
  /** Look-alike sets the calls join (SADD, PEXPIRE), written with the record or not at all. */
  join?: Array<{ key: string; member: string; ttlMs: number }>;
}

/** What opening a try found. */
export interface TryOpening {
  /** The candidates whose recipient is suppressed. */
  suppressed: Channel[];
  /** Each booking not cancelled by a suppression: go (its slot already waited for), or a wait. */
  reservations: Partial<Record<Channel, Reservation>>;
  /** True when `record` was written: the job's progress is it, and `job.progress` too. */
  recorded: boolean;
}

/**
 * Opens each try of a notification in one Redis command where there were up to three: the
 * suppression check of its channels (lib/suppressions.ts), a slot from the provider gate for each
 * channel that goes (provider-gate.ts, the same Lua), and the record of the calls about to be
 * made (processor.ts: a try after a crash looks for their messages). When a recipient is
 * suppressed or a slot is later than now, the record is left to the processor, as before.
 */
export function createTryOpener(options: {
  redis: RedisConnection;
  gate: ProviderGate;
  suppressions: SuppressionList;
}) {
  const { redis, gate, suppressions } = options;
  return async function openTry(job: Job, request: TryOpeningRequest): Promise<TryOpening> {
    if (request.candidates.length + request.bookings.length === 0 && !request.record) {
      return { suppressed: [], reservations: {}, recorded: false };
    }
    const { key, fields } = suppressions.lookup(request.candidates);
    const keys = [key];
    const bookings = request.bookings.map(({ channel, provider }) => {
      const booking = gate.bookingOf(provider);
      keys.push(...booking.keys);
      const unless = request.candidates.findIndex((candidate) => candidate.channel === channel);
      return { spacing: booking.args[0], notBefore: booking.args[1], unless: unless + 1 };
    });
    const progress = request.record ? JSON.stringify(request.record) : "";
    if (request.record) {
      // BullMQ's keys: `{prefix}:{queue}:{id}`, `…:events`, `…:meta`.
      const queueKey = job.queueQualifiedName;
      keys.push(`${queueKey}:${job.id}`, `${queueKey}:events`, `${queueKey}:meta`);
      for (const { key: setKey } of request.join ?? []) keys.push(setKey);
    }
    const [found, slots, recorded] = (await OPEN_TRY(redis, keys, [
      JSON.stringify(bookings),
      JSON.stringify(fields),
      String(job.id),
      progress,
      JSON.stringify(request.record ? (request.join ?? []).map((j) => [j.member, j.ttlMs]) : []),
    ])) as [number[], unknown[], number];
    const suppressed = request.candidates
      .filter((_, index) => found[index] === 1)
      .map(({ channel }) => channel);
    const booked: Array<[Channel, string, Booking]> = [];
    request.bookings.forEach(({ channel, provider }, index) => {
      if (suppressed.includes(channel)) return;
      booked.push([channel, provider, gate.answerOf(provider, slots[index])]);
    });
    const reservations: Partial<Record<Channel, Reservation>> = {};
    await Promise.all(
      booked.map(async ([channel, provider, booking]) => {
        reservations[channel] = await gate.take(provider, booking);
      }),
    );
    if (recorded === 1 && request.record) job.progress = request.record;
    return { suppressed, reservations, recorded: recorded === 1 };
  };
}

export type TryOpener = ReturnType<typeof createTryOpener>;

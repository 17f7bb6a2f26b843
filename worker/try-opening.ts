import type { Channel } from "../contract/channels.js";
import type { SuppressionList } from "../delivery/suppressions.js";
import type { RedisConnection } from "../lib/redis.js";
import { redisScript } from "../lib/redis-script.js";
import { type ProviderGate, RESERVE_SLOT_FUNCTION, type Reservation } from "./provider-gate.js";

/**
 * KEYS: the suppression hash, then a (schedule, wait) pair per booking. ARGV: the bookings (JSON:
 * spacing and `unless`, the 1-based suppression field that cancels it, 0 for none)
 * and the suppression fields (JSON). A booking whose recipient is suppressed books no slot.
 */
const OPEN_TRY = redisScript(`${RESERVE_SLOT_FUNCTION}
local bookings = cjson.decode(ARGV[1])
local fields = cjson.decode(ARGV[2])
local suppressed = {}
if #fields > 0 then
  local found = redis.call('HMGET', KEYS[1], unpack(fields))
  for i = 1, #fields do suppressed[i] = found[i] and 1 or 0 end
end
local slots = {}
for i, booking in ipairs(bookings) do
  if booking.unless > 0 and suppressed[booking.unless] == 1 then
    slots[i] = {-2}
  else
    slots[i] = reserveSlot(KEYS[2 * i], KEYS[2 * i + 1], booking.spacing)
  end
end
return {suppressed, slots}`);

/** What a try is opened with. */
export interface TryOpeningRequest {
  /** Channels whose recipient is checked against the suppression list. */
  candidates: Array<{ channel: Channel; recipient: string }>;
  /** Channels that need a provider slot, unless their recipient (a candidate) is suppressed. */
  bookings: Array<{ channel: Channel; provider: string }>;
}

/** What opening a try found. */
export interface TryOpening {
  /** The candidates whose recipient is suppressed. */
  suppressed: Channel[];
  /** Each booking not cancelled by a suppression: go (its slot already waited for), or a wait. */
  reservations: Partial<Record<Channel, Reservation>>;
}

/**
 * Opens each try of a notification in one Redis command: the suppression check of its channels
 * (delivery/suppressions.ts) and a slot from the provider gate for each channel that goes
 * (provider-gate.ts, the same Lua), then waits for the slots.
 */
export function createTryOpener(options: {
  redis: RedisConnection;
  gate: ProviderGate;
  suppressions: SuppressionList;
}) {
  const { redis, gate, suppressions } = options;
  return async function openTry(request: TryOpeningRequest): Promise<TryOpening> {
    if (request.candidates.length + request.bookings.length === 0) {
      return { suppressed: [], reservations: {} };
    }
    const { key, fields } = suppressions.lookup(request.candidates);
    const keys = [key];
    const bookings = request.bookings.map(({ channel, provider }) => {
      const booking = gate.bookingOf(provider);
      keys.push(...booking.keys);
      const unless = request.candidates.findIndex((candidate) => candidate.channel === channel);
      return { spacing: booking.spacing, unless: unless + 1 };
    });
    const [found, slots] = (await OPEN_TRY(redis, keys, [
      JSON.stringify(bookings),
      JSON.stringify(fields),
    ])) as [number[], unknown[]];
    const suppressed = request.candidates
      .filter((_, index) => found[index] === 1)
      .map(({ channel }) => channel);
    const reservations: Partial<Record<Channel, Reservation>> = {};
    await Promise.all(
      request.bookings.map(async ({ channel, provider }, index) => {
        if (suppressed.includes(channel)) return;
        reservations[channel] = await gate.take(provider, gate.answerOf(provider, slots[index]));
      }),
    );
    return { suppressed, reservations };
  };
}

export type TryOpener = ReturnType<typeof createTryOpener>;

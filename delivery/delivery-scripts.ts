/**
 * The delivery store's Lua scripts (delivery-store.ts): each applies its transitions in one
 * atomic command, so a status only moves forward and the same event twice counts once.
 */
import { redisScript } from "../lib/redis-script.js";

/**
 * Applies one transition to a notification's record: once per `key`; into the timeline; and to
 * the channel's status only when it ranks above the current one (or, for the worker's own
 * word, when the current status is the worker's too: a retried channel's new outcome).
 */
const APPLY_FUNCTION = `
local function apply(statusKey, timelineKey, t, retention, maxTimeline)
  if redis.call('HSETNX', statusKey, 'seen:' .. t.key, '1') == 0 then
    return {'duplicate', ''}
  end
  redis.call('RPUSH', timelineKey, t.entry)
  redis.call('LTRIM', timelineKey, -maxTimeline, -1)
  redis.call('EXPIRE', timelineKey, retention)
  redis.call('EXPIRE', statusKey, retention)
  local rank = tonumber(t.rank) or 0
  if rank == 0 then return {'recorded', ''} end
  local field = t.channel .. '.'
  local current = tonumber(redis.call('HGET', statusKey, field .. 'rank') or '0')
  local previous = redis.call('HGET', statusKey, field .. 'status') or ''
  -- The worker's own word replaces its earlier one (an operator retried a failed channel);
  -- against a provider's, it follows the rank like any event.
  local retried = t.source == 'worker' and redis.call('HGET', statusKey, field .. 'source') == 'worker'
  if retried and previous == t.status then return {'recorded', ''} end
  if rank <= current and not retried then return {'recorded', ''} end
  redis.call('HSET', statusKey, field .. 'status', t.status, field .. 'rank', rank,
    field .. 'at', t.at, field .. 'source', t.source)
  if t.code then
    redis.call('HSET', statusKey, field .. 'code', t.code)
  else
    redis.call('HDEL', statusKey, field .. 'code')
  end
  if t.providerId then redis.call('HSET', statusKey, field .. 'providerId', t.providerId) end
  return {'changed', previous}
end
`;

/**
 * A webhook's event (gateway). KEYS: the provider id's index entry, its pending list. ARGV: the
 * record keys' prefix, the transition, retention, timeline size, pending TTL and size, index TTL.
 * Without an index entry the event waits in the pending list for the worker's record.
 */
export const APPLY_PROVIDER_EVENT = redisScript(`${APPLY_FUNCTION}
local id = redis.call('GET', KEYS[1])
if not id then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
  redis.call('EXPIRE', KEYS[2], ARGV[5])
  return {'pending', '', ''}
end
redis.call('EXPIRE', KEYS[1], ARGV[7])
local statusKey = ARGV[1] .. id
local result = apply(statusKey, statusKey .. ':timeline', cjson.decode(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
return {result[1], id, result[2]}
`);

/**
 * The worker's record of a try. KEYS: the record, its timeline, then an (index entry, pending
 * list) pair per provider id. ARGV: the notification id, the fields to set, the transitions,
 * retention, timeline size and index TTL. Indexes each provider id (unless another notification holds
 * it), then applies the events that waited for it; answers those (json, outcome, previous).
 */
export const RECORD_WORKER = redisScript(`${APPLY_FUNCTION}
local retention = tonumber(ARGV[4])
local maxTimeline = tonumber(ARGV[5])
for field, value in pairs(cjson.decode(ARGV[2])) do
  redis.call('HSET', KEYS[1], field, value)
end
redis.call('EXPIRE', KEYS[1], retention)
for _, t in ipairs(cjson.decode(ARGV[3])) do
  apply(KEYS[1], KEYS[2], t, retention, maxTimeline)
end
local drained = {}
for i = 3, #KEYS, 2 do
  local holder = redis.call('GET', KEYS[i])
  if not holder then
    redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[6])
    holder = ARGV[1]
  end
  if holder == ARGV[1] then
    redis.call('EXPIRE', KEYS[i], ARGV[6])
    local waiting = redis.call('LRANGE', KEYS[i + 1], 0, -1)
    redis.call('DEL', KEYS[i + 1])
    for _, json in ipairs(waiting) do
      local result = apply(KEYS[1], KEYS[2], cjson.decode(json), retention, maxTimeline)
      table.insert(drained, json)
      table.insert(drained, result[1])
      table.insert(drained, result[2])
    end
  end
end
return drained
`);

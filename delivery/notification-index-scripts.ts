/**
 * The search indexes' Lua scripts (notification-index.ts): each writes or reads a notification's
 * indexes in one atomic command.
 */
import { redisScript } from "../lib/redis-script.js";

/** Sorted-set entries the scripts below add, trimmed to the retention and renewed. */
const INDEX_FUNCTION = `
local function index(key, id, createdAt, cutoff, ttl)
  redis.call('ZADD', key, 'NX', createdAt, id)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. cutoff)
  redis.call('EXPIRE', key, ttl)
end
`;

/**
 * Accepts a notification (gateway). KEYS: its record, its timeline, the key's scheduled set, then
 * its indexes. ARGV: id, createdAt, cutoff, retention (s), sendAt (0: now), cap, now, the record's
 * fields (JSON), the timeline entry, the timeline's size, the scheduled set's TTL. Refuses a
 * scheduled one past the cap with {'full', the earliest send time}.
 */
export const ACCEPT = redisScript(`${INDEX_FUNCTION}
local id = ARGV[1]
local sendAt = tonumber(ARGV[5])
if sendAt > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[7])
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[6]) then
    local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    return {'full', first[2] or ''}
  end
  redis.call('ZADD', KEYS[3], sendAt, id)
  redis.call('EXPIRE', KEYS[3], ARGV[11])
end
for field, value in pairs(cjson.decode(ARGV[8])) do
  redis.call('HSET', KEYS[1], field, value)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('RPUSH', KEYS[2], ARGV[9])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[10]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
for i = 4, #KEYS do index(KEYS[i], id, ARGV[2], ARGV[3], ARGV[4]) end
return {'ok', ''}
`);

/**
 * Indexes a notification accepted elsewhere (a direct producer's), once: unless its delivery
 * record exists, which its first try writes. KEYS: the record, then its indexes.
 */
export const INDEX = redisScript(`${INDEX_FUNCTION}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #KEYS do index(KEYS[i], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) end
return 1
`);

/**
 * Records a cancel. KEYS: the record, its timeline, the submitter's scheduled set, its indexes.
 * ARGV: id, createdAt, cutoff, retention (s), the record's fields (JSON), the timeline entry, the
 * timeline's size. Indexes it too: a direct producer's job has no index entries until now.
 */
export const CANCEL = redisScript(`${INDEX_FUNCTION}
for field, value in pairs(cjson.decode(ARGV[5])) do
  redis.call('HSET', KEYS[1], field, value)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('RPUSH', KEYS[2], ARGV[6])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[7]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[1])
for i = 4, #KEYS do index(KEYS[i], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) end
return 1
`);

/** Takes back an acceptance whose job could not be added. KEYS as ACCEPT's; ARGV: the id. */
export const WITHDRAW = redisScript(`
redis.call('DEL', KEYS[1], KEYS[2])
for i = 3, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 1
`);

/**
 * One page of a search. KEYS: the query's indexes. ARGV: the newest score, the oldest, how many
 * entries at the newest score to skip (those already read), how many to read, and which index
 * to read (0: the one with the fewest entries in range). Reads that index newest first and
 * checks each entry's membership in the others; answers {driver, count, id, score, match, …}.
 */
export const SEARCH_PAGE = redisScript(`
local driver = tonumber(ARGV[5])
local count = -1
if driver == 0 then
  for i = 1, #KEYS do
    local n = redis.call('ZCOUNT', KEYS[i], ARGV[2], ARGV[1])
    if count < 0 or n < count then count = n; driver = i end
  end
else
  count = redis.call('ZCOUNT', KEYS[driver], ARGV[2], ARGV[1])
end
local rows = redis.call('ZRANGE', KEYS[driver], ARGV[1], ARGV[2], 'BYSCORE', 'REV',
  'LIMIT', ARGV[3], ARGV[4], 'WITHSCORES')
local out = {driver, count}
for i = 1, #rows, 2 do
  local match = 1
  for k = 1, #KEYS do
    if k ~= driver and not redis.call('ZSCORE', KEYS[k], rows[i]) then match = 0; break end
  end
  table.insert(out, rows[i])
  table.insert(out, rows[i + 1])
  table.insert(out, match)
end
return out
`);

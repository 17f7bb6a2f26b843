-- POST /notifications for wrk, started by bench/intake.ts as
--   wrk -t<threads> ... -s bench/wrk-post.lua <url> -- <api key> <JSON body> <idempotency 0|1>
--     <rate> <threads> <run id>
-- idempotency 1: a unique Idempotency-Key on every request (run id, thread, counter).
-- rate > 0: requests a second across all threads, paced by delay() on a per-thread schedule; wrk
-- times a request from its write, so the pause before it is not counted as latency.
-- done() prints one JSON line: requests, non-2xx/3xx answers, socket errors, p99, duration.

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
end

local ffi = require("ffi")
ffi.cdef([[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]])
local clock = ffi.new("bench_timespec")
local CLOCK_MONOTONIC = 1

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

function init(args)
  local api_key, body, idempotency = args[1], args[2], args[3]
  local rate, threads, run_id = tonumber(args[4] or "0"), tonumber(args[5] or "1"), args[6] or "run"
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Authorization"] = "Bearer " .. api_key
  wrk.headers["Content-Type"] = "application/json"

  if idempotency == "1" then
    local prefix = run_id .. "-" .. tostring(thread_id) .. "-"
    local counter = 0
    local headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    request = function()
      counter = counter + 1
      headers["Idempotency-Key"] = prefix .. counter
      return wrk.format(nil, nil, headers, body)
    end
  end

  if rate > 0 then
    -- This thread's share of the rate; each request claims the next free slot of its schedule.
    local interval = 1000 * threads / rate
    local next_slot = 0
    delay = function()
      local now = now_ms()
      if next_slot < now - 100 then next_slot = now end
      next_slot = next_slot + interval
      local wait = next_slot - now
      if wait < 0 then return 0 end
      return math.floor(wait)
    end
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"non2xx":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d}\n',
    summary.requests, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end

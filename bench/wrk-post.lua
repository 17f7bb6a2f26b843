-- POST /notifications for wrk, started by bench/support.ts as
--   wrk ... -s bench/wrk-post.lua <url> -- <api key> <JSON body>
-- done() prints one JSON line: requests, non-2xx/3xx answers, socket errors, duration.

function init(args)
  wrk.method = "POST"
  wrk.body = args[2]
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"non2xx":%d,"errors":%d,"durationUs":%d}\n',
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration))
end

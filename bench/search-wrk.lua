-- wrk script of the search benchmark: posts the query mix's Connect binary requests in turn, each made once (one per
-- line of the file given after `--`, in hex), and prints the run as one JSON line.
local bodies = {}
local next_body = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  for hex in file:read("*a"):gmatch("[0-9a-f]+") do
    bodies[#bodies + 1] = hex:gsub("..", function(byte) return string.char(tonumber(byte, 16)) end)
  end
  file:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/proto"
  wrk.headers["Connect-Protocol-Version"] = "1"
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end

function done(summary, latency)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationMicros":%d,"errors":%d,"p50Micros":%d,"p99Micros":%d}\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end

-- wrk load for bench/api.sh on random bench sessions (ids from $BENCH_SESSIONS, token from $BENCH_TOKEN):
-- BENCH_ENDPOINT=append  POST /v1/sessions/{id}/messages
-- BENCH_ENDPOINT=history GET  /v1/sessions/{id}/messages?limit=20 (newest first)
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

local ids = {}
local endpoint = os.getenv("BENCH_ENDPOINT")
function init(args)
  math.randomseed(seed or 1)
  for line in io.lines(os.getenv("BENCH_SESSIONS")) do ids[#ids + 1] = line end
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  wrk.headers["Content-Type"] = "application/json"
end

local body = '{"role":"user","message_type":"text","content":"a benchmark message of about the size of a chat line"}'
function request()
  local path = "/v1/sessions/" .. ids[math.random(#ids)] .. "/messages"
  if endpoint == "append" then
    return wrk.format("POST", path, nil, body)
  end
  return wrk.format("GET", path .. "?limit=20", nil, nil)
end

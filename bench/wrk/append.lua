-- wrk: POST /v1/sessions/{id}/messages on random bench sessions (ids from $BENCH_SESSIONS, token from $BENCH_TOKEN).
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

local ids = {}
function init(args)
  math.randomseed(seed or 1)
  for line in io.lines(os.getenv("BENCH_SESSIONS")) do ids[#ids + 1] = line end
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  wrk.headers["Content-Type"] = "application/json"
end

local body = '{"role":"user","message_type":"text","content":"a benchmark message of about the size of a chat line"}'
function request()
  return wrk.format("POST", "/v1/sessions/" .. ids[math.random(#ids)] .. "/messages", nil, body)
end

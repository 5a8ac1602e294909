-- wrk: GET /v1/sessions/{id}/messages?limit=20 (newest first) on random bench sessions.
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
end

function request()
  return wrk.format("GET", "/v1/sessions/" .. ids[math.random(#ids)] .. "/messages?limit=20", nil, nil)
end

#!/usr/bin/env bash
# BotStore's append and history endpoints under HTTP load (wrk), against pgbench running the same SQL straight on the
# database (the stores' own statements, prepared, one pipelined round trip per transaction, as the API's Npgsql batches
# with automatic preparation send them), on the same machine, at 8 and 64 clients.
# Prints throughput, p50 and p99 of both, and the API's share of pgbench's throughput. A benchmark, not a test:
# on a shared machine the figures move with the neighbours' load.
#   bench/api.sh                 20 s per run; BENCH_SECONDS=60 bench/api.sh for steadier figures
#   BENCH_CLIENTS="8 64 128" ... other concurrencies
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/ensure-deps.sh" server wrk

seconds="${BENCH_SECONDS:-20}"
clients="${BENCH_CLIENTS:-8 64}"
sessions="${BENCH_SESSIONS_COUNT:-1000}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
dir="$(mktemp -d /tmp/botstore-bench.XXXXXX)"
chmod 755 "$dir"
pg_port="$(free_port)"
api_port="$(free_port)"
botstore() { "$root/botstore" --data-dir "$dir/pg" --pg-port "$pg_port" "$@"; }
serve_pid=""
cleanup() {
  # serve stops the cluster it started; should it not have, stop the cluster by its own pid before removing its folder.
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  if [ -f "$dir/pg/postmaster.pid" ]; then
    local pg_pid; pg_pid="$(head -1 "$dir/pg/postmaster.pid")"
    kill -INT "$pg_pid" 2>/dev/null || true
    while kill -0 "$pg_pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

echo "bench: cluster on 127.0.0.1:$pg_port, API on 127.0.0.1:$api_port, data in $dir" >&2
botstore migrate >/dev/null
# Not through the botstore() function: the script execs dotnet, so $! is the server itself.
"$root/botstore" --data-dir "$dir/pg" --pg-port "$pg_port" serve --urls "http://127.0.0.1:$api_port" >"$dir/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$api_port/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$api_port/readyz" >/dev/null || { cat "$dir/serve.log" >&2; exit 1; }

created="$(botstore tenants create bench --json)"
json() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
tenant="$(echo "$created" | json tenant_id)"
export BENCH_TOKEN="$(echo "$created" | json token)"
export PGPASSWORD="$(json Password <"$dir/pg/botstore.json")"
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d botstore "$@"; }

# Bench data: one bot, one user, $sessions sessions with 50 messages each (ids 00000000-0000-7000-8000-000000NNNNNN,
# which pgbench can spell from a random number), and bench_uuid7() for pgbench's new message ids.
psql_ -v tenant="$tenant" -v sessions="$sessions" <<'SQL'
CREATE FUNCTION bench_uuid7(at timestamptz DEFAULT clock_timestamp()) RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING substring(int8send(floor(extract(epoch FROM at) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;
INSERT INTO bots (tenant_id, id, llm_provider, name) VALUES (:tenant, '00000000-0000-7000-8000-000000000001', 1, 'bench');
INSERT INTO users (tenant_id, id, external_id) VALUES (:tenant, '00000000-0000-7000-8000-000000000002', 'bench');
INSERT INTO user_sessions (tenant_id, created_at, last_activity_at, id, user_id, bot_id, message_count, channel, title)
SELECT :tenant, now() - interval '1 day', now() - interval '1 day' + interval '50 seconds',
       ('00000000-0000-7000-8000-000000' || (100000 + n))::uuid, '00000000-0000-7000-8000-000000000002', '00000000-0000-7000-8000-000000000001', 50, 0, 'bench'
FROM generate_series(1, :sessions) n;
INSERT INTO message_history (tenant_id, created_at, id, session_id, user_id, message_index, role, is_read, content)
SELECT :tenant, uuid7_time(x.id), x.id, s.id, s.user_id, k, 1 + k % 2, true, 'a benchmark message of about the size of a chat line'
FROM user_sessions s, generate_series(0, 49) k, LATERAL (SELECT bench_uuid7(s.created_at + k * interval '1 second') AS id) x
WHERE s.tenant_id = :tenant;
VACUUM ANALYZE;
SQL
seq 100001 $((100000 + sessions)) | sed 's/^/00000000-0000-7000-8000-000000/' >"$dir/sessions.txt"
export BENCH_SESSIONS="$dir/sessions.txt"
botstore bench pgbench-scripts "$dir" --tenant "$tenant"

# wrk prints latencies as 812.00us, 1.23ms or 1.02s.
to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }'; }
run_wrk() { # endpoint clients -> "rps p50 p99 errors"
  export BENCH_ENDPOINT="$1"
  wrk -t 2 -c "$2" -d 3s -s "$root/bench/wrk/api.lua" "http://127.0.0.1:$api_port" >/dev/null
  local out; out="$(wrk -t 2 -c "$2" -d "${seconds}s" --latency -s "$root/bench/wrk/api.lua" "http://127.0.0.1:$api_port")"
  local rps p50 p99 errors
  rps="$(echo "$out" | awk '/Requests\/sec/ { printf "%.0f", $2 }')"
  p50="$(echo "$out" | awk '$1 == "50%" { print $2 }' | to_ms)"
  p99="$(echo "$out" | awk '$1 == "99%" { print $2 }' | to_ms)"
  errors="$(echo "$out" | awk '/Non-2xx/ { print $5 } /Socket errors/ { print "socket" }' | tr '\n' ' ')"
  echo "$rps $p50 $p99 ${errors:-0}"
}
run_pgbench() { # script clients -> "tps p50 p99"
  local logs="$dir/pgb-$1-$2"; mkdir -p "$logs"
  pgbench -n -M prepared -h 127.0.0.1 -p "$pg_port" -U postgres -c "$2" -j 2 -T 3 -D tenant="$tenant" -D sessions="$sessions" -f "$dir/$1.sql" botstore >/dev/null 2>&1
  local out; out="$(cd "$logs" && pgbench -n -M prepared -h 127.0.0.1 -p "$pg_port" -U postgres -c "$2" -j 2 -T "$seconds" \
    -D tenant="$tenant" -D sessions="$sessions" -f "$dir/$1.sql" --log --log-prefix=tx botstore 2>&1)"
  local tps; tps="$(echo "$out" | awk '/^tps/ { printf "%.0f", $3 }')"
  local failed; failed="$(echo "$out" | awk '/number of failed transactions/ { print $5 }')"
  [ "${failed:-0}" = "0" ] || echo "bench: pgbench $1 -c $2: $failed failed transactions" >&2
  cat "$logs"/tx.* | awk '{ print $3 / 1000 }' | sort -n >"$logs/latencies"
  local n; n="$(wc -l <"$logs/latencies")"
  local p50 p99
  p50="$(sed -n "$(( (n + 1) / 2 ))p" "$logs/latencies")"
  p99="$(sed -n "$(( (n * 99 + 99) / 100 ))p" "$logs/latencies")"
  printf '%s %.2f %.2f\n' "$tps" "$p50" "$p99"
}

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| endpoint | clients | API req/s | API p50 ms | API p99 ms | pgbench tps | pgbench p50 ms | pgbench p99 ms | API / pgbench |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in $clients; do
  for endpoint in append history; do
    read -r rps ap50 ap99 errors <<<"$(run_wrk "$endpoint" "$c")"
    read -r tps pp50 pp99 <<<"$(run_pgbench "$endpoint" "$c")"
    ratio="$(awk -v a="$rps" -v b="$tps" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
    [ "$errors" = "0" ] || echo "bench: $endpoint -c $c: non-2xx/socket errors: $errors" >&2
    echo "| $endpoint | $c | $rps | $ap50 | $ap99 | $tps | $pp50 | $pp99 | $ratio |"
  done
done
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), load average at the start: $load_start, at the end: $(cut -d" " -f1-3 /proc/loadavg); ${seconds}s per run"

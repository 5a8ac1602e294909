#!/usr/bin/env bash
# Runs BotStore's test suite against real PostgreSQL (an embedded cluster the tests start) and real PgBouncer.
# Installs what is missing first (apt-get as root, else it prints the command). Extra arguments go to dotnet test,
# e.g. ./test.sh --filter FullyQualifiedName~Migration
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# bench: the bench test runs pgbench, psql and gnuplot; browser: the dashboard tests run Chromium.
scripts/ensure-deps.sh server pgbouncer bench browser

results=".botstore/test-results"
rm -rf "$results"
status=0
dotnet test BotStore.slnx -c Release --nologo \
  --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
  --results-directory "$results" "$@" || status=$?

# One closing line in the plain 'N passed, N failed' form, read from the TRX counters.
trx="$results/results.trx"
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  total=$(get total); executed=$(get executed); passed=$(get passed); failed=$(get failed)
  # The failures again at the very end, name and message, so a CI log's tail says what broke.
  awk '/<UnitTestResult / && /outcome="Failed"/ { match($0, /testName="[^"]*"/); print "failed: " substr($0, RSTART + 10, RLENGTH - 11); inside = 1; n = 0 }
       inside && /<Message>/ { message = 1 }
       message && n < 15 { sub(/^ */, "  "); print; n++ }
       /<\/Message>/ { message = 0 }
       /<\/UnitTestResult>/ { inside = 0 }' "$trx"
  echo "tests: ${passed:-0} passed, ${failed:-0} failed, $(( ${total:-0} - ${executed:-0} )) skipped"
  if [ "${executed:-0}" -eq 0 ]; then echo "tests: no test ran" >&2; status=1; fi
else
  echo "tests: 0 passed, 0 failed"
  echo "tests: no results were written" >&2
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"

#!/usr/bin/env bash
# Installs the Debian packages BotStore needs when they are missing: as root through apt-get, otherwise it prints
# the exact command and fails. Usage: scripts/ensure-deps.sh [server] [pgbouncer] [bench] [wrk] [browser]
set -euo pipefail

want=()
have_server() {
  [ -n "${BOTSTORE_PG_BIN:-}" ] && [ -x "${BOTSTORE_PG_BIN}/initdb" ] && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && compgen -G "/usr/share/postgresql/*/extension/pg_stat_statements.control" >/dev/null
}
for need in "$@"; do
  case "$need" in
    # pgbackrest: the embedded cluster archives its WAL with it (backups, point-in-time recovery).
    server) have_server || want+=(postgresql-15 postgresql-contrib postgresql-client)
            command -v pgbackrest >/dev/null || want+=(pgbackrest) ;;
    pgbouncer) command -v pgbouncer >/dev/null || want+=(pgbouncer) ;;
    wrk) command -v wrk >/dev/null || want+=(wrk) ;;
    # browser: the dashboard tests drive Debian's Chromium headless (Playwright is told where it is; it downloads nothing).
    browser) command -v chromium >/dev/null || want+=(chromium fonts-dejavu-core) ;;
    bench) command -v pgbench >/dev/null || want+=(postgresql-contrib postgresql-client)
           command -v gnuplot >/dev/null || want+=(gnuplot-nox) ;;
    *) echo "ensure-deps: unknown need '$need'" >&2; exit 2 ;;
  esac
done
[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "botstore: missing packages; run: sudo apt-get update && sudo apt-get install -y ${want[*]}" >&2
  exit 1
fi
echo "botstore: installing ${want[*]} (apt-get)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# The Debian package starts its own cluster on 5432; BotStore runs its own, so keep the package's off.
apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
if command -v pg_lsclusters >/dev/null; then
  pg_lsclusters -h 2>/dev/null | while read -r ver name _; do pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true; done
fi

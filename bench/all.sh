#!/usr/bin/env bash
# Every benchmark, one after the other, on SQLite and (with BENCH_DATABASE_URL) on PostgreSQL,
# each beside the baseline it measures in the same run; full outputs and the PASS/FAIL and BENCH
# lines kept in a log dir. Run it on a quiet machine: no other benchmark, build or test beside it.
#
#   BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bench/all.sh [LOG_DIR]
#
# BENCH_ONLY="ingest query" runs those alone. About 55 minutes with PostgreSQL.
set -u -o pipefail
cd "$(dirname "$0")/.."
logs=${1:-$(mktemp -d "${TMPDIR:-/tmp}/relengd-bench-XXXXXX")}
mkdir -p "$logs"
pg=${BENCH_DATABASE_URL:-}
only=${BENCH_ONLY:-}
echo "bench/all: logs in $logs; PostgreSQL: ${pg:-not set (SQLite only)}"

wanted() { [ -z "$only" ] || [[ " $only " == *" $1 "* ]]; }

# run NAME DATABASE(sqlite|postgresql) ENV... -- npm script
run() {
  local name=$1 db=$2
  shift 2
  local vars=()
  while [ "$1" != "--" ]; do vars+=("$1"); shift; done
  shift
  local log="$logs/$name.$db.log"
  local database=(-u BENCH_DATABASE_URL)
  [ "$db" = postgresql ] && database=("BENCH_DATABASE_URL=$pg")
  echo "== $(date -u +%H:%M:%S) $name on $db (load $(cut -d' ' -f1-3 /proc/loadavg))"
  env "${database[@]}" "${vars[@]}" npm run --silent "$@" >"$log" 2>&1
  echo "   exit $?; $(grep -cE '^(PASS|FAIL)' "$log") verdicts"
  grep -E '^(PASS|FAIL)|^BENCH ' "$log" | sed 's/^/   /'
}

npm run --silent build >"$logs/build.log" 2>&1 || { echo "build failed: $logs/build.log"; exit 1; }
dbs=(sqlite)
[ -n "$pg" ] && dbs+=(postgresql)

wanted policy-eval && run policy-eval none x=1 -- bench:policy-eval
for db in "${dbs[@]}"; do
  wanted release-latency && run release-latency "$db" x=1 -- bench:release-latency
  wanted burst && run burst "$db" x=1 -- bench:burst
  wanted ingest && run ingest "$db" BENCH_SECONDS=10 -- bench:ingest
  # The writer keeps up: 1,000 artifacts/s on the Rawhide path for 30 s, queue empty within 5 s.
  wanted keeps-up && run keeps-up "$db" BENCH_PATHS=rawhide BENCH_ROUNDS=0 BENCH_RATE=1000 BENCH_SECONDS=30 -- bench:ingest
  wanted query && run query "$db" x=1 -- bench:query
done
# These run SQLite first, then PostgreSQL when BENCH_DATABASE_URL is set, in one invocation.
export BENCH_SKIP_BUILD=1
both=sqlite
[ -n "$pg" ] && both=sqlite+postgresql
wanted mass-rebuild && { echo "== mass-rebuild"; npm run --silent bench:mass-rebuild >"$logs/mass-rebuild.$both.log" 2>&1; grep -E '^(PASS|FAIL)|^BENCH ' "$logs/mass-rebuild.$both.log" | sed 's/^/   /'; }
wanted restart-history && { echo "== restart-history"; npm run --silent bench:restart-history >"$logs/restart-history.$both.log" 2>&1; grep -E '^(PASS|FAIL)|^BENCH ' "$logs/restart-history.$both.log" | sed 's/^/   /'; }
wanted requests && { echo "== requests"; npm run --silent bench:requests >"$logs/requests.$both.log" 2>&1; grep -E '^(PASS|FAIL)|^BENCH ' "$logs/requests.$both.log" | sed 's/^/   /'; }
wanted shadow && { echo "== shadow"; npm run --silent bench:shadow >"$logs/shadow.$both.log" 2>&1; grep -E '^(PASS|FAIL)|^BENCH ' "$logs/shadow.$both.log" | sed 's/^/   /'; }
# The repo of 5,000 RPMs is built once (about 15 s) and kept in the temp dir between runs.
wanted repoclosure && { echo "== repoclosure"; npm run --silent bench:repoclosure >"$logs/repoclosure.$both.log" 2>&1; grep -E '^(PASS|FAIL)|^BENCH ' "$logs/repoclosure.$both.log" | sed 's/^/   /'; }
wanted kill-burst && { echo "== kill-burst"; npm run --silent bench:kill-burst >"$logs/kill-burst.$both.log" 2>&1; grep -E '^(PASS|FAIL)|^BENCH |lost|duplicated' "$logs/kill-burst.$both.log" | tail -8 | sed 's/^/   /'; }
echo "bench/all: done $(date -u +%H:%M:%S); logs in $logs"

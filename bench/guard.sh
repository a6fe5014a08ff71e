#!/usr/bin/env bash
# The "within 10 %" check between two trees: runs each bench npm script alternately in BEFORE and
# AFTER (before, after, before, after: GUARD_ROUNDS rounds, default 2), collects the
# `BENCH <name> <metric> <value> <higher|lower>-is-better` lines each bench prints, and prints each
# figure's after/before ratio (means over the rounds) with a verdict.
#
#   bench/guard.sh BEFORE_TREE AFTER_TREE bench:ingest bench:release-latency ...
#
# The environment reaches every run (BENCH_SECONDS, BENCH_DATABASE_URL, ...). Full outputs are kept
# in GUARD_LOG_DIR (default: a new temp dir, printed). GUARD_TOLERANCE (default 0.10) is how much
# worse a figure may be. Alternating puts the machine's drift on both trees alike; on a shared
# machine compare the ratio figures (…-vs-echo, …-vs-plain-git) before the absolute ones.
set -u -o pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 BEFORE_TREE AFTER_TREE BENCH_SCRIPT..." >&2
  exit 2
fi
before=$(cd "$1" && pwd) || exit 2
after=$(cd "$2" && pwd) || exit 2
shift 2
rounds=${GUARD_ROUNDS:-2}
tolerance=${GUARD_TOLERANCE:-0.10}
logs=${GUARD_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/relengd-guard-XXXXXX")}
mkdir -p "$logs"
figures="$logs/figures.tsv"
: >"$figures"
echo "guard: before $before, after $after; $rounds rounds; logs in $logs"

failed=0
for script in "$@"; do
  for round in $(seq 1 "$rounds"); do
    for side in before after; do
      tree=$before
      [ "$side" = after ] && tree=$after
      log="$logs/${script//[^A-Za-z0-9_.-]/_}.$side.$round.log"
      echo "$(date -u +%H:%M:%S) $script round $round: $side"
      if ! (cd "$tree" && npm run --silent "$script") >"$log" 2>&1; then
        echo "  $script failed in $side (round $round): see $log" >&2
        failed=1
      fi
      # script, side, round, name, metric, value, direction
      awk -v s="$script" -v side="$side" -v r="$round" '$1 == "BENCH" && NF == 5 { print s "\t" side "\t" r "\t" $2 "\t" $3 "\t" $4 "\t" $5 }' "$log" >>"$figures"
    done
  done
done

echo
awk -F '\t' -v tol="$tolerance" '
  {
    key = $4 " " $5
    if (!(key in dir)) { order[++n] = key; dir[key] = $7 }
    if ($6 == "nan") { bad[key "," $2] = 1; next }
    sum[key "," $2] += $6; cnt[key "," $2] += 1
    vals[key "," $2] = vals[key "," $2] (vals[key "," $2] == "" ? "" : " ") $6
  }
  function mean(k) { return cnt[k] > 0 && !(k in bad) ? sum[k] / cnt[k] : "" }
  END {
    printf "%-28s %-36s %-24s %-24s %-10s %s\n", "bench", "metric", "before", "after", "after/bef", "verdict"
    worse = 0
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, parts, " ")
      b = mean(k ",before"); a = mean(k ",after")
      if (b == "" || a == "") { r = "n/a"; v = "MISSING (a run lacks this figure or it was nan)"; worse++ }
      else if (b == 0) {
        r = "n/a"
        if (a == 0) v = "same"
        else if (dir[k] == "lower-is-better") { v = "WORSE (was 0)"; worse++ }
        else v = "better (was 0)"
      } else {
        ratio = a / b; r = sprintf("%.3f", ratio)
        if (dir[k] == "higher-is-better") v = ratio < 1 - tol ? "WORSE" : ratio > 1 ? "better" : "within"
        else v = ratio > 1 + tol ? "WORSE" : ratio < 1 ? "better" : "within"
        if (v == "WORSE") worse++
      }
      printf "%-28s %-36s %-24s %-24s %-10s %s\n", parts[1], parts[2] " (" substr(dir[k], 1, index(dir[k], "-") - 1) ")", vals[k ",before"], vals[k ",after"], r, v
    }
    printf "\n%d figure(s) worse by more than %d %% (or missing); figures in %s\n", worse, tol * 100, FILENAME
    exit (worse > 0 ? 1 : 0)
  }
' "$figures"
verdict=$?
[ "$failed" -ne 0 ] && echo "some bench runs failed: see the logs" >&2 && exit 1
exit $verdict

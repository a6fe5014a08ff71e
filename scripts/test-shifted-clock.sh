#!/usr/bin/env bash
# The date-sensitive suites (vitest.shifted-clock.config.ts) once more with the wall clock a year
# ahead. libfaketime (Debian's faketime package) shifts what every process of the run reads as
# the time of day: the tests, relengd serve and the CLI they start, git's commit dates. Only the
# wall clock moves (FAKETIME_DONT_FAKE_MONOTONIC): timers and timeouts keep real time.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v faketime >/dev/null 2>&1; then
  echo "test-shifted-clock: needs faketime (apt-get install -y faketime; .ci/run does)" >&2
  exit 2
fi
RELENGD_TEST_REAL_NOW="$(($(date +%s) * 1000))"
export RELENGD_TEST_REAL_NOW FAKETIME_DONT_FAKE_MONOTONIC=1
exec faketime -f "+1y" npx vitest run --config vitest.shifted-clock.config.ts "$@"

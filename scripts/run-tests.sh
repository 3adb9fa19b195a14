#!/usr/bin/env bash
# Runs the built test files (build/test/, made by `npm test`'s pretest) with node's test runner, under
# IOMUX_TEST_NODE (default: the node on the PATH). Every test has a limit (--test-timeout, IOMUX_TEST_TIMEOUT_MS,
# 240 s; from Node 22 the runner applies it to each whole file too, so it must cover the slowest file on a loaded
# machine) and every file one more (test/support/watchdog.ts, IOMUX_TEST_FILE_LIMIT_S, 300 s, also for a file
# blocked in a system call), so a stall fails with its name.
#   scripts/run-tests.sh                      # every file
#   scripts/run-tests.sh build/test/epoll.test.js build/test/poll.test.js
# With IOMUX_TEST_RESULTS=DIR the results also go, as TAP, to DIR/node-<version>-<arch>.tap, which
# scripts/test-failures.mjs summarises (CI prints that summary last).
set -euo pipefail
cd "$(dirname "$0")/.."
node=${IOMUX_TEST_NODE:-node}
if (( $# == 0 )); then set -- build/test/*.test.js; fi
reporters=()
if [[ -n ${IOMUX_TEST_RESULTS:-} ]]; then
  mkdir -p "$IOMUX_TEST_RESULTS"
  run=$("$node" -p 'process.version + "-" + process.arch')
  reporters=(--test-reporter=spec --test-reporter-destination=stdout
    --test-reporter=tap --test-reporter-destination="$IOMUX_TEST_RESULTS/node-${run#v}.tap")
fi
exec "$node" --import ./build/test/support/watchdog.js --test --test-concurrency="${IOMUX_TEST_CONCURRENCY:-2}" \
  --test-timeout="${IOMUX_TEST_TIMEOUT_MS:-240000}" "${reporters[@]}" "$@"

#!/usr/bin/env bash
# Builds once (with the node on the PATH), then runs the test suite under another Node.js line:
#   npm run test:node -- 26                  # the 26.x listed in .ci/node-versions (fetched once into .cache/node)
#   npm run test:node -- 24.22.3 build/test/epoll.test.js   # an exact version, some files
# Linux x64 only here; .ci/arm64.sh runs arm64 builds under qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:?usage: scripts/test-node.sh MAJOR|VERSION [test files…]}
shift
if [[ $want =~ ^[0-9]+$ ]]; then
  version=$(grep -E "^$want\." .ci/node-versions | head -1)
  [[ -n $version ]] || { echo "test-node: no $want.x in .ci/node-versions" >&2; exit 2; }
else
  version=$want
fi
node_bin=$(bash scripts/node-dist.sh "$version")
if [[ ${IOMUX_SKIP_BUILD:-} != 1 ]]; then npm run --silent pretest; fi
echo "test-node: $("$node_bin" --version) ($node_bin)"
IOMUX_TEST_NODE=$node_bin exec bash scripts/run-tests.sh "$@"

#!/usr/bin/env bash
# Linux aarch64, run for real: the test files that touch the ABI (struct layouts, epoll_event, msghdr and
# control data, sockaddrs, libuv handles, the echo server's epoll loop) under the official arm64 Node.js builds,
# through qemu-user on this x86_64 machine. Needs root (apt-get, binfmt_misc), like CI. Run after a build
# (`npm test`'s pretest made dist/ and build/ with the x86 node; the JavaScript is the same).
#   bash .ci/arm64.sh [MAJOR…]          # default: the newest line in .ci/node-versions (26); e.g. 22 24 26 for more
# What qemu-user itself cannot do is skipped by name from .ci/arm64-skip.txt, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(uname -s) == Linux && $(uname -m) == x86_64 ]] || { echo "arm64: runs from Linux x86_64 only; nothing done"; exit 0; }

# 1. qemu-user and the arm64 C and C++ runtimes (multiarch), so arm64 node and the children it spawns run.
if ! command -v qemu-aarch64 >/dev/null || ! dpkg -s libstdc++6:arm64 libatomic1:arm64 >/dev/null 2>&1; then
  dpkg --add-architecture arm64
  apt-get update -qq
  apt-get install -y -qq qemu-user libc6:arm64 libstdc++6:arm64 libatomic1:arm64 >/dev/null
fi
# 2. binfmt_misc: executing an arm64 ELF goes through qemu (about 20 test files spawn process.execPath).
binfmt=/proc/sys/fs/binfmt_misc
[[ -e $binfmt/register ]] || mount binfmt_misc -t binfmt_misc "$binfmt"
[[ -e $binfmt/qemu-aarch64 ]] || cat /usr/lib/binfmt.d/qemu-aarch64.conf >"$binfmt/register"
# 3. koffi's prebuilt arm64 binary beside the x64 one (npm installs only the running platform's).
koffi_version=$(node -p "require('./node_modules/koffi/package.json').version")
koffi_arm64=node_modules/@koromix/koffi-linux-arm64
if [[ $(node -p "try { require('./$koffi_arm64/package.json').version } catch { '' }") != "$koffi_version" ]]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@koromix/koffi-linux-arm64@$koffi_version" >/dev/null)
  rm -rf "$koffi_arm64" && mkdir -p "$koffi_arm64"
  tar xzf "$tmp"/koromix-koffi-linux-arm64-*.tgz -C "$koffi_arm64" --strip-components=1
  rm -rf "$tmp"
fi

# The ABI-touching files (kqueue is left to the x64 runs: libkqueue's socket filters need a getsockopt
# that qemu 7.2 answers with EFAULT).
files=(
  select poll epoll multiplex-bounds platform-tables
  socket socket-tcp socket-unix-udp socket-linux socket-helpers socket-messages socket-msg-control socket-msg-layout
  socket-msg-limits loop-watch loop-close-safety loop-microtasks socket-loop-ops
  selectors echo-server-epoll os
)
paths=()
for f in "${files[@]}"; do paths+=("build/test/$f.test.js"); done
# One pattern of every skipped test name (node's --test-skip-pattern, from Node 22).
skip=$(grep -v '^#' .ci/arm64-skip.txt | grep . | sed 's/[[:space:]]*|[^|]*$//' | paste -sd'|' || true)
skip_args=()
[[ -z $skip ]] || skip_args=("--test-skip-pattern=$skip")

majors=("$@")
if (( ${#majors[@]} == 0 )); then
  # One line by default: qemu runs these files ~10x slower, and CI has 90 minutes for everything.
  mapfile -t majors < <(grep -E '^[0-9]' .ci/node-versions | cut -d. -f1 | tail -1)
fi
status=0
for major in "${majors[@]}"; do
  version=$(grep -E "^$major\." .ci/node-versions | head -1)
  node_bin=$(bash scripts/node-dist.sh "$version" arm64)
  echo "arm64: $("$node_bin" -p 'process.version + " " + process.arch') under $(qemu-aarch64 --version | head -1)"
  # qemu runs code ~5-10x slower: each test and file gets a longer limit.
  IOMUX_TEST_NODE=$node_bin IOMUX_TEST_TIMEOUT_MS=600000 IOMUX_TEST_FILE_LIMIT_S=1200 IOMUX_TEST_SLOWDOWN=10 \
    bash scripts/run-tests.sh "${skip_args[@]}" "${paths[@]}" || status=1
done
exit $status

#!/usr/bin/env bash
# Builds libkqueue (kqueue on Linux, for the kqueue tests) into .cache/libkqueue, once. Never fails the
# caller: when the build is impossible the reason goes to .cache/libkqueue.reason, and the kqueue tests then
# fail loudly with it (test/support/kqueue.ts) instead of being skipped.
cd "$(dirname "$0")/.."
out=.cache/libkqueue
reason=.cache/libkqueue.reason
mkdir -p .cache
rm -f "$reason"
[[ $(uname -s) == Linux ]] || exit 0 # macOS and the BSDs have kqueue in libc
script=../shared/vendor/build-libkqueue.sh
if [[ ! -f $script ]]; then
  echo "libkqueue: $script is missing (the vendored libkqueue snapshot is needed to test kqueue on Linux)" >"$reason"
  exit 0
fi
for tool in gcc make; do
  command -v "$tool" >/dev/null 2>&1 || { echo "libkqueue: $tool is missing (apt-get install build-essential cmake)" >"$reason"; exit 0; }
done
if ! log=$(bash "$script" "$out" 2>&1); then
  { echo "libkqueue: the build failed:"; echo "$log" | tail -20; } >"$reason"
fi
exit 0

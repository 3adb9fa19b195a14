#!/usr/bin/env bash
# Prints the path of an official Node.js binary of the given version and architecture, fetched once from the
# npm registry (the `node-linux-<arch>` packages carry the official builds) into .cache/node/, and reused.
#   scripts/node-dist.sh 26.12.1          # x64 on an x86_64 machine
#   scripts/node-dist.sh 22.23.5 arm64    # run it under qemu-user (see .ci/arm64.sh)
# The system node is returned as it is when it already is that version and architecture.
set -euo pipefail
version=${1:?usage: scripts/node-dist.sh VERSION [x64|arm64]}
case $(uname -m) in x86_64) host=x64 ;; aarch64) host=arm64 ;; *) host=$(uname -m) ;; esac
arch=${2:-$host}
[[ $(uname -s) == Linux ]] || { echo "node-dist: only Linux builds are fetched here" >&2; exit 2; }
if [[ $arch == "$host" ]] && command -v node >/dev/null && [[ $(node --version) == "v$version" ]]; then
  command -v node; exit 0
fi
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/.cache/node/$arch-$version
if [[ ! -x $dir/bin/node ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null) \
    || { echo "node-dist: could not fetch node-linux-$arch@$version from the npm registry" >&2; exit 1; }
  mkdir -p "$tmp/x" && tar xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$tmp/x" package/bin/node
  mkdir -p "$dir/bin" && mv "$tmp/x/package/bin/node" "$dir/bin/node"
fi
echo "$dir/bin/node"

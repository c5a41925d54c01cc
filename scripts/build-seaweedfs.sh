#!/usr/bin/env bash
# Builds the SeaweedFS server binary (weed) that the teamcache S3 tests run as a real
# S3-compatible gateway, once, into .work/seaweedfs/weed. Safe to run again: a working
# binary is kept.
#
# `go install` refuses the module (its go.mod has replace directives), so the module
# source is downloaded through the Go module proxy, copied to a writable temporary
# directory (the module cache is read-only) and built there with `go build ./weed`.
set -euo pipefail
cd "$(dirname "$0")/.."

module=github.com/seaweedfs/seaweedfs
version=v0.0.0-20261109003541-7506e5f91cd6
out=$PWD/.work/seaweedfs/weed

# A copy outside the checkout, so that a fresh clone on this machine need not
# build it again (a cold build takes 5-15 minutes).
shared=${XDG_CACHE_HOME:-$HOME/.cache}/dcc-build/seaweedfs-$version/weed

if [ -x "$out" ] && "$out" version >/dev/null 2>&1; then
  echo "build-seaweedfs: $out already built ($("$out" version 2>&1 | head -n 1))"
  exit 0
fi
if [ -x "$shared" ] && "$shared" version >/dev/null 2>&1; then
  mkdir -p "$(dirname "$out")"
  cp "$shared" "$out.tmp" && mv "$out.tmp" "$out"
  echo "build-seaweedfs: copied $out from $shared"
  exit 0
fi

start=$(date +%s)
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

# Download outside any module so this project's go.mod and go.sum are left alone;
# the module cache keeps it at GOMODCACHE/MODULE@VERSION (no capital letters to escape).
(cd "$tmp" && GO111MODULE=on GOFLAGS=-mod=mod go mod download "$module@$version")
dir=$(go env GOMODCACHE)/$module@$version
if [ ! -d "$dir" ]; then
  echo "build-seaweedfs: go mod download $module@$version left no $dir" >&2
  exit 1
fi

cp -R "$dir" "$tmp/src"
chmod -R u+w "$tmp/src"
mkdir -p "$(dirname "$out")"
(cd "$tmp/src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$out.tmp" ./weed)
mv "$out.tmp" "$out"
mkdir -p "$(dirname "$shared")" && cp "$out" "$shared.tmp" && mv "$shared.tmp" "$shared"
echo "build-seaweedfs: built $out from $module@$version in $(( $(date +%s) - start ))s (a copy kept in $shared)"

#!/usr/bin/env bash
# The demo: builds zlib from Debian's sources twice, once with plain gcc and
# once through dcc's masquerade links first in PATH, runs zlib's own tests on the
# dcc build, compares every object byte for byte, and shows what dcc decided for
# each compile (from its DCC_LOG).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh
make -s build
src=$(scripts/fetch-project.sh zlib)

work=$root/.work/demo
rm -rf "$work"
mkdir -p "$work"
bin/dcc install-links "$work/links" >/dev/null
jobs=$(( $(nproc) * 3 / 2 + 1 ))

build() { # build DIR [env...]: configure and make zlib in DIR
  local dir=$1; shift
  cp -a "$src" "$dir"
  (cd "$dir" && env "$@" ./configure >/dev/null && env "$@" make -s -j"$jobs" >/dev/null 2>&1)
}

echo "== plain gcc build"
t0=$(date +%s.%N)
build "$work/plain" CC=gcc
t1=$(date +%s.%N)
echo "== build through dcc (masquerade links first in PATH)"
build "$work/dcc" CC=gcc PATH="$work/links:$PATH" DCC_LOG="$work/dcc.log"
t2=$(date +%s.%N)
echo "== zlib's own tests on the dcc build"
tests=$(cd "$work/dcc" && PATH="$work/links:$PATH" make test 2>&1) || { echo "$tests"; exit 1; }
grep -F '***' <<<"$tests" | sed 's/^[[:space:]]*/   /'

same=0; diff=0
while IFS= read -r obj; do
  rel=${obj#"$work/plain/"}
  if cmp -s "$obj" "$work/dcc/$rel"; then same=$((same + 1)); else diff=$((diff + 1)); echo "DIFFERS: $rel"; fi
done < <(find "$work/plain" -name '*.o' -o -name '*.lo' -o -name '*.a' -o -name '*.so*' -type f)

echo
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "plain build %.2fs, dcc build %.2fs\n", b - a, c - b }'
echo "objects and libraries identical to the plain build: $same, different: $diff"
echo "what dcc decided for each compile (action: count):"
grep -o '"action":"[a-z]*"' "$work/dcc.log" | sort | uniq -c | sed 's/"action":"\([a-z]*\)"/\1/'
[ "$diff" -eq 0 ]

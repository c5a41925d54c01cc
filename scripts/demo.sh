#!/usr/bin/env bash
# The demo: builds zlib from Debian's sources with plain gcc, then through dcc's
# masquerade links first in PATH with a dcc-server started on a loopback
# address (cold cache: the server compiles what the daemon sends it), runs
# zlib's own tests, cleans and builds again (warm cache: every compile a hit),
# compares every object of both dcc builds byte for byte with the plain build,
# and shows dcc's statistics and hosts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh
make -s build
src=$(scripts/fetch-project.sh zlib)

work=$root/.work/demo
export DCC_DIR=$work/dcc
[ -S "$DCC_DIR/daemon.sock" ] && bin/dcc daemon stop >/dev/null 2>&1 || true
rm -rf "$work"
mkdir -p "$work"
# A compile host on a loopback address of its own, as a daemon; its first run
# writes $work/server/server.conf and its TLS key. The client finds it through
# DCC_HOSTS.
host=127.0.0.2
export DCC_TOKEN=demo-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
server() { DCC_DIR=$work/server bin/dcc-server "$@"; }
trap 'bin/dcc daemon stop >/dev/null 2>&1 || true; server --stop >/dev/null 2>&1 || true' EXIT
server --start --listen "$host:19693" --jobs 2 --token "$DCC_TOKEN" --workdir "$work/server/jobs" | sed 's/^/   /'
# The client pins the host's TLS key: the fingerprint the host prints.
export DCC_HOSTS="$host:19693/2,fingerprint=$(server --fingerprint)"
bin/dcc install-links "$work/links" >/dev/null
jobs=$(( $(nproc) * 3 / 2 + 1 ))
links_path="$work/links:$PATH"

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fs", b - a }'; }
compare() { # compare DIR: every object and library of DIR against the plain build
  local same=0 diff=0 obj rel
  while IFS= read -r obj; do
    rel=${obj#"$work/plain/"}
    if cmp -s "$obj" "$1/$rel"; then same=$((same + 1)); else diff=$((diff + 1)); echo "DIFFERS: $rel"; fi
  done < <(find "$work/plain" \( -name '*.o' -o -name '*.lo' -o -name '*.a' \) -type f)
  echo "   $same objects and libraries identical to the plain build, $diff different"
  [ "$diff" -eq 0 ]
}

echo "== plain gcc build"
cp -a "$src" "$work/plain"
(cd "$work/plain" && CC=gcc ./configure >/dev/null)
t0=$(date +%s.%N)
(cd "$work/plain" && make -s -j"$jobs" >/dev/null 2>&1)
t1=$(date +%s.%N)
echo "   $(seconds "$t0" "$t1") (make only)"

echo "== dcc hosts (DCC_HOSTS=$DCC_HOSTS)"
bin/dcc hosts --check | sed 's/^/   /'
jobs=$(bin/dcc jobs)

echo "== cold build through dcc (masquerade links first in PATH, empty cache, make -j$jobs)"
cp -a "$src" "$work/dcc-build"
cd "$work/dcc-build"
PATH=$links_path CC=gcc ./configure >/dev/null
t2=$(date +%s.%N)
PATH=$links_path make -s -j"$jobs" >/dev/null 2>&1
t3=$(date +%s.%N)
echo "   $(seconds "$t2" "$t3") (make only)"
"$root/bin/dcc" stats | grep -E 'Misses|hosts|on ' | sed 's/^/   /'
compare "$work/dcc-build"
echo "== zlib's own tests on the dcc build"
tests=$(PATH=$links_path make test 2>&1) || { echo "$tests"; exit 1; }
grep -F '***' <<<"$tests" | sed 's/^[[:space:]]*/   /'

echo "== warm rebuild through dcc (make clean; make)"
PATH=$links_path make -s clean >/dev/null
"$root/bin/dcc" stats --zero >/dev/null
t4=$(date +%s.%N)
PATH=$links_path make -s -j"$jobs" >/dev/null 2>&1
t5=$(date +%s.%N)
echo "   $(seconds "$t4" "$t5") (make only)"
compare "$work/dcc-build"
cd "$root"

echo "== dcc stats (warm rebuild)"
bin/dcc stats

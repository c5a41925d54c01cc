#!/usr/bin/env bash
# Fetches a Debian source package (zlib, lua5.4, ...) once into .work/src/PKG and
# prints the path of its unpacked tree. The tree is kept pristine; builds copy it.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=${1:?usage: scripts/fetch-project.sh PACKAGE}
dest=.work/src/$pkg
if ! ls -d "$dest"/*/ >/dev/null 2>&1; then
  mkdir -p "$dest"
  (cd "$dest" && apt-get source -q "$pkg" >/dev/null 2>&1) || {
    echo "fetch-project: apt-get source $pkg failed (is deb-src enabled? run scripts/install-deps.sh)" >&2
    exit 1
  }
fi
tree=$(ls -d "$dest"/*/ | head -n 1)
echo "$(cd "$tree" && pwd)"

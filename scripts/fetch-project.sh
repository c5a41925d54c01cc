#!/usr/bin/env bash
# Fetches a Debian source package (zlib, lua5.4, libtomcrypt, ...) once into .work/src/PKG and
# prints the path of its unpacked tree. The tree is kept pristine; builds copy it.
#
# The versions the package index lists are tried newest first: a mirror can list
# a version (a security update, say) whose files it does not serve, and a test
# suite must not depend on which mirror a machine happens to have.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=${1:?usage: scripts/fetch-project.sh PACKAGE}
dest=.work/src/$pkg
if ! ls -d "$dest"/*/ >/dev/null 2>&1; then
  mkdir -p "$dest"
  versions=$(apt-cache showsrc "$pkg" 2>/dev/null | awk '/^Version:/ {print $2}' | sort -u -r -V)
  if [ -z "$versions" ]; then
    echo "fetch-project: the package index lists no source of $pkg (is deb-src enabled? run scripts/install-deps.sh)" >&2
    exit 1
  fi
  fetched=""
  for v in $versions; do
    rm -rf "${dest:?}"/* 2>/dev/null || true
    if (cd "$dest" && apt-get source -q "$pkg=$v" >/dev/null 2>&1) && ls -d "$dest"/*/ >/dev/null 2>&1; then
      fetched=$v
      break
    fi
    echo "fetch-project: $pkg $v could not be fetched; trying an older version" >&2
  done
  if [ -z "$fetched" ]; then
    rm -rf "${dest:?}"/* 2>/dev/null || true
    echo "fetch-project: apt-get source $pkg failed for every listed version ($(echo $versions))" >&2
    exit 1
  fi
fi
tree=$(ls -d "$dest"/*/ | head -n 1)
echo "$(cd "$tree" && pwd)"

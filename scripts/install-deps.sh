#!/usr/bin/env bash
# Installs what dcc's build, tests and demo need on a Debian machine with Go:
# the compilers dcc stands in front of, ccache and distcc for comparisons,
# dpkg-dev for `apt-get source`, libtool for lua5.4's build, bubblewrap for dcc-server's
# sandbox, iptables and iproute2 for the network fault tests, Debian's aarch64 cross gcc and gcc-11
# (and g++, for C++ units shipped to hosts) for the cross-compiler and version tests, redis-server and nginx (the team cache's
# storages, which the tests start on loopback ports: the packages' own services are
# not started), meson and ninja (a meson build with ccache installed), autoconf and automake
# (the build-system matrix), chromium (the monitor's page, screenshot headless), lintian and
# fakeroot (the Debian packages' checks), the Go modules, and SeaweedFS's S3 gateway (built from its Go module).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

need=()
for tool in gcc:gcc g++:g++ clang:clang clang++:clang clang-cl-14:clang-tools-14 \
            ccache:ccache distcc:distcc dpkg-source:dpkg-dev make:make cmake:cmake \
            libtool:libtool-bin llvm-profdata-14:llvm-14 setpriv:util-linux unshare:util-linux \
            bwrap:bubblewrap iptables:iptables ip:iproute2 \
            aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu aarch64-linux-gnu-g++:g++-aarch64-linux-gnu gcc-11:gcc-11 \
            redis-server:redis-server nginx:nginx meson:meson ninja:ninja-build \
            autoreconf:autoconf automake:automake chromium:chromium lintian:lintian fakeroot:fakeroot; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done

src_list=/etc/apt/sources.list.d/debian.sources
deb_src_missing=false
if [ -f "$src_list" ] && ! grep -q '^Types:.*deb-src' "$src_list"; then
  deb_src_missing=true
fi

if [ "${#need[@]}" -gt 0 ] || $deb_src_missing; then
  if $deb_src_missing; then
    echo "install-deps: enabling deb-src in $src_list (for apt-get source)"
    "${sudo_cmd[@]}" sed -i 's/^Types: deb$/Types: deb deb-src/' "$src_list"
  fi
  echo "install-deps: apt-get install ${need[*]:-(sources only)}"
  "${sudo_cmd[@]}" apt-get update -q >/dev/null
  if [ "${#need[@]}" -gt 0 ]; then
    # redis-server and nginx would start services of their own: the tests
    # start theirs. A policy-rc.d that refuses keeps any from starting.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
      "${sudo_cmd[@]}" chmod 755 "$policy"
      trap '"${sudo_cmd[@]}" rm -f "$policy"' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${need[@]}" >/dev/null
  fi
fi

go mod download
scripts/build-seaweedfs.sh

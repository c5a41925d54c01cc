#!/bin/sh
# Builds the Debian packages dcc and dcc-server with dpkg-deb, reproducibly:
# the same tree, version and Go toolchain give byte-identical .deb files.
# Every file's time is SOURCE_DATE_EPOCH (default: the last commit's time),
# every owner root, every mode set here, and dpkg-deb sorts the members.
#
# Environment (all optional):
#   DEB_OUT         output directory (default .work/deb); the packages are
#                   DEB_OUT/dcc_VERSION_ARCH.deb and dcc-server_VERSION_ARCH.deb
#   DEB_VERSION     package version (default 0.1.0~gitDATE.COMMIT, from the
#                   last commit); dcc version prints it
#   DEB_ARCH        Debian architecture (default dpkg's own); sets GOARCH
#   DEB_MAINTAINER  the Maintainer field
#   DEB_COMPRESS    dpkg-deb's compressor: xz (the default) or gzip (lintian
#                   in bookworm refuses zstd)
#   SOURCE_DATE_EPOCH  the time of every file and of the changelog entry
#   DEB_COMMIT      the commit the changelog names (default: HEAD's); with
#                   it and SOURCE_DATE_EPOCH set, no git repository is needed
#   GO              the go command (default go)
# It prints the paths of the two packages.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

GO=${GO:-go}
out=${DEB_OUT:-$root/.work/deb}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export SOURCE_DATE_EPOCH
commit=${DEB_COMMIT:-$(git rev-parse --short=12 HEAD)}
version=${DEB_VERSION:-0.1.0~git$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d).$commit}
arch=${DEB_ARCH:-$(dpkg --print-architecture)}
maintainer=${DEB_MAINTAINER:-dcc maintainers <maintainers@dcc-build.invalid>}
homepage=https://github.com/dcc-build/dcc
compress=${DEB_COMPRESS:-xz}

case $arch in
amd64 | arm64 | riscv64 | s390x) goarch=$arch ;;
i386) goarch=386 ;;
armhf) goarch=arm ;;
ppc64el) goarch=ppc64le ;;
*) echo "build-deb.sh: no Go architecture known for Debian's $arch" >&2; exit 2 ;;
esac
case $version in
[0-9]*) ;;
*) echo "build-deb.sh: DEB_VERSION $version does not start with a digit" >&2; exit 2 ;;
esac

stage=$out/stage-$arch
rm -rf "$stage"
mkdir -p "$stage/bin"

# Static, without paths of this machine, stripped (Debian ships stripped
# programs; the Go build id dcc checks its daemon by stays), version set.
# GOARM=7 only matters for armhf.
CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=7 "$GO" build -trimpath -buildvcs=false \
	-ldflags "-s -w -X github.com/dcc-build/dcc/cli.Version=$version" \
	-o "$stage/bin/" ./cmd/dcc ./cmd/dccd ./cmd/dcc-server

# put SRC DEST MODE copies a file into a package tree.
put() {
	mkdir -p "$(dirname "$2")"
	cp "$1" "$2"
	chmod "$3" "$2"
}

# changelog PACKAGE writes the package's one-entry changelog, gzipped.
changelog() {
	{
		printf '%s (%s) unstable; urgency=medium\n\n' "$1" "$version"
		printf '  * Built from the dcc repository, commit %s.\n\n' "$commit"
		printf ' -- %s  %s\n' "$maintainer" "$(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")"
	} | gzip -9n >"$2"
	chmod 0644 "$2"
}

# finish PACKAGE writes the control files of the package tree and builds
# the .deb.
finish() {
	pkg=$1
	tree=$stage/$pkg
	src=packaging/$pkg
	put packaging/copyright "$tree/usr/share/doc/$pkg/copyright" 0644
	changelog "$pkg" "$tree/usr/share/doc/$pkg/changelog.gz"
	if [ -f "$src/lintian-overrides" ]; then
		put "$src/lintian-overrides" "$tree/usr/share/lintian/overrides/$pkg" 0644
	fi
	if [ -f "docs/man/$pkg.1" ]; then
		mkdir -p "$tree/usr/share/man/man1"
		gzip -9n <"docs/man/$pkg.1" >"$tree/usr/share/man/man1/$pkg.1.gz"
		chmod 0644 "$tree/usr/share/man/man1/$pkg.1.gz"
	fi
	mkdir -p "$tree/DEBIAN"
	for f in postinst prerm postrm; do
		[ ! -f "$src/$f" ] || put "$src/$f" "$tree/DEBIAN/$f" 0755
	done
	[ ! -f "$src/triggers" ] || put "$src/triggers" "$tree/DEBIAN/triggers" 0644
	(cd "$tree" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
		xargs -0r md5sum) >"$tree/DEBIAN/md5sums"
	chmod 0644 "$tree/DEBIAN/md5sums"
	# Installed-Size as dpkg-gencontrol counts it: KiB per file, rounded
	# up, and one per directory or link.
	size=$(cd "$tree" && find . -path ./DEBIAN -prune -o ! -path . -printf '%y %s\n' |
		awk '$1 == "f" { n += int(($2 + 1023) / 1024) } $1 != "f" { n += 1 } END { print n + 0 }')
	sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
		-e "s|@INSTALLED_SIZE@|$size|" -e "s|@HOMEPAGE@|$homepage|" "$src/control" >"$tree/DEBIAN/control"
	chmod 0644 "$tree/DEBIAN/control"
	find "$tree" -type d -exec chmod 0755 {} +
	find "$tree" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	deb=$out/${pkg}_${version}_$arch.deb
	dpkg-deb --root-owner-group -Z"$compress" --build "$tree" "$deb" >/dev/null
	echo "$deb"
}

put "$stage/bin/dcc" "$stage/dcc/usr/bin/dcc" 0755
put "$stage/bin/dccd" "$stage/dcc/usr/lib/dcc/dccd" 0755
finish dcc

put "$stage/bin/dcc-server" "$stage/dcc-server/usr/bin/dcc-server" 0755
put packaging/dcc-server/dcc-server.service "$stage/dcc-server/usr/lib/systemd/system/dcc-server.service" 0644
finish dcc-server

rm -rf "$stage"

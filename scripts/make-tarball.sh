#!/usr/bin/env bash
# Makes the release tarball mutcell-<version>-linux-x86_64.tar.gz from a build
# tree (default ./build, as `./dev build` makes it): bin/mutcell,
# share/mutcell/ (the scripts the binary finds beside itself), README.md,
# LICENSE, CHANGELOG.md, under one top directory mutcell-<version>/.
#   scripts/make-tarball.sh [BUILD_DIR [OUT_DIR]]
# The version is the binary's own (`mutcell --version`, from CMakeLists.txt).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=${2:-$root/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cmake --build "$build" --target mutcell mutcell_share >/dev/null
version=$("$build/mutcell" --version | sed -n 's/^mutcell //p')
[ -n "$version" ] || { echo "make-tarball: cannot read the version from $build/mutcell --version" >&2; exit 1; }
name=mutcell-$version-linux-x86_64
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cmake --install "$build" --prefix "$stage/mutcell-$version" --strip >/dev/null
cp "$root/README.md" "$root/LICENSE" "$root/CHANGELOG.md" "$stage/mutcell-$version/"
tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$out/$name.tar.gz" "mutcell-$version"
echo "$out/$name.tar.gz"

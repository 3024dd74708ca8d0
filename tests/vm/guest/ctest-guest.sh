#!/usr/bin/env bash
# The ctest entry of the systemd guest: mutcell goes into the guest the way a
# user installs it, as the wheel (scripts/make-wheel.sh, built incrementally
# in BUILD/wheel-build, which install_wheel shares), then run-guest.sh runs
# its default scenarios. Exit status: run-guest.sh's (77: qemu cannot run).
#   tests/vm/guest/ctest-guest.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
build=$(cd "${1:?usage: ctest-guest.sh BUILD_DIR}" && pwd) || exit 2
dist=$build/guest-dist
rm -rf "$dist"
if ! MUTCELL_WHEEL_TOOLS=$build/wheel-tools "$repo/scripts/make-wheel.sh" "$dist" \
    -C build-dir="$build/wheel-build" >"$build/guest-wheel.log" 2>&1; then
  tail -n 30 "$build/guest-wheel.log" >&2
  echo "ctest-guest: scripts/make-wheel.sh failed (log: $build/guest-wheel.log)" >&2
  exit 1
fi
wheel=$(ls "$dist"/mutcell-*manylinux*.whl | head -n 1)
echo "ctest-guest: installing $(basename "$wheel") in the guest"
exec "$here/run-guest.sh" --wheel "$wheel"

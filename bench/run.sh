#!/bin/sh
# Benchmarks of mutcell side by side with mutmut (see docs/benchmarks.md).
#
#   bench/run.sh [--quick] [--mutcell PATH] [--build-dir DIR] [--python PY] [--out FILE] [--only 1,2,3,4,5,6]
#                [--cache-dir DIR]
#
# Full run: writes docs/benchmarks.md. --quick (small sizes, as in CI) writes
# <build-dir>/benchmarks-quick.md unless --out is given. Scenario 6 (real
# projects, not in --quick) downloads pinned sdists from PyPI into --cache-dir
# (default ~/.cache/mutcell-bench/sdists) once; `--only 6` keeps the other
# sections of the --out file. Without --mutcell, the
# binary is built in build-bench/ (Release). Needs root (cgroup v1 memory) and
# the repo's venv (./dev creates .venv from scripts/requirements.txt).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache=""; quick=""; mutcell=""; build=""; python="$repo/.venv/bin/python"; out=""; only=""
cmdline="bench/run.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=--quick ;;
    --mutcell) mutcell=$2; shift ;;
    --build-dir) build=$2; shift ;;
    --python) python=$2; shift ;;
    --out) out=$2; shift ;;
    --only) only=$2; shift ;;
    --cache-dir) cache=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ ! -x "$python" ]; then
  echo "SKIPPED: $python is missing; run ./dev build to create the venv from scripts/requirements.txt" >&2
  exit 77
fi
if [ -z "$mutcell" ]; then
  build=${build:-$repo/build-bench}
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build" mutcell mutcell_core >/dev/null
  mutcell=$build/mutcell
fi
build=${build:-$(dirname "$mutcell")}
if [ -z "$out" ]; then
  if [ -n "$quick" ]; then out=$build/benchmarks-quick.md; else out=$repo/docs/benchmarks.md; fi
fi
# scale_bench times mutcell's plan and journal code directly (libmutcell_core.a).
sb=$(mktemp -d /tmp/mutcell-bench-sb.XXXXXX)
trap 'rm -rf "$sb"' EXIT
c++ -std=c++20 -O2 -I"$repo" -I"$build/generated" -DSPDLOG_COMPILED_LIB -DSPDLOG_FMT_EXTERNAL \
  -DSPDLOG_SHARED_LIB -DFMT_SHARED -DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1 \
  "$here/scale_bench.cc" "$build/libmutcell_core.a" -l:libcrypto.a -lspdlog -lfmt -ltomlplusplus -lpthread -o "$sb/scale_bench"
set -- --mutcell "$mutcell" --python "$python" --scale-bench "$sb/scale_bench" --out "$out" --command "$cmdline"
[ -n "$quick" ] && set -- "$@" --quick
[ -n "$only" ] && set -- "$@" --only "$only"
[ -n "$cache" ] && set -- "$@" --cache-dir "$cache"
"$python" "$here/bench.py" "$@"

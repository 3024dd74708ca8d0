#!/usr/bin/env bash
# The main job on the bundled example: `mutcell mutmut` on examples/runaway
# (a Python library whose mutants include an endless allocator), then the
# verdicts as mutmut and mutcell show them. Usage: examples/demo.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: demo.sh BUILD_DIR}" && pwd)
venv=$(cd "$here/.." && pwd)/.venv
work=$(mktemp -d /tmp/mutcell-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
# mutmut writes mutants/ into the project: work on a copy.
cp -r "$here/runaway" "$work/project"
cd "$work/project"
export PATH="$venv/bin:$PATH"

echo "== mutcell mutmut   (examples/runaway: 256 MiB cells, see its pyproject.toml)"
"$build/mutcell" mutmut --max-children 2
echo
echo "== mutmut results   (mutmut's own view; oom is stored as mutmut's timeout code 36)"
mutmut results
echo
echo "== mutcell report   (every verdict with its peak memory)"
"$build/mutcell" report

#!/usr/bin/env bash
# The main job on the bundled example: every mutant in its own cell, the
# runaway caught as `oom`, then the report. Usage: examples/demo.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: demo.sh BUILD_DIR}
state=$(mktemp -d /tmp/mutcell-demo.XXXXXX)
trap 'rm -rf "$state"' EXIT
cd "$here/exec"
echo "== mutcell run: examples/exec/plan.jsonl (5 mutants, 256 MiB cells)"
"$build/mutcell" run --plan plan.jsonl --config mutcell.toml --state-dir "$state"
echo
echo "== mutcell report"
"$build/mutcell" report --state-dir "$state"

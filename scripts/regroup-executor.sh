#!/usr/bin/env bash
# Regroups executor/ by concern (issue 17): git-mv each module (name.h,
# name.cc, name_test.cc, name_perftest.cc) into a subfolder, rewrites every
# reference to its old path (#include "executor/x.h", CMake, docs, scripts),
# lets CMake glob the subfolders and updates the README's layout block.
#
#   scripts/regroup-executor.sh [--map NAME=GROUP]... [--dry-run]
#
# Run at the repository root of a clean checkout; it stages the result and
# commits nothing (build, `ctest -L unit`, then commit). A module that is not
# in the mapping below (added since it was written) stops it before anything
# moves: assign it with --map NAME=GROUP, or add it to the mapping.
#
# The groups, lowest first; a folder includes only from folders before it
# (checked at the end), so data flows one way: plan -> run (scheduler, cells)
# -> verdict -> journal -> reports.
#   common  leaf utilities: atomic files, JSON lines, exit codes, signals,
#           install paths, fingerprints
#   plan    what to run: plan, config, the verdict vocabulary
#   state   what happened: journal, state directory and lock, reuse, gates
#   shard   shards and merging their state directories
#   run     running a plan: scheduler, session, progress, output logs
#   mutmut  the mutmut adapter: its files and `mutcell mutmut`
#   report  reports (table, JSON, markdown, HTML) and where mutants are
#   cli     main, the other commands, doctor, the version
set -euo pipefail

declare -A group=(
  [atomic_file]=common [exit_codes]=common [fast_json]=common [fingerprint]=common
  [install_paths]=common [interrupt]=common
  [plan]=plan [config]=plan [verdict]=plan
  [journal]=state [state_dir]=state [state_lock]=state [reuse]=state [gates]=state
  [shard]=shard [merge]=shard
  [scheduler]=run [session]=run [progress]=run [output_log]=run
  [mutmut_command]=mutmut [mutmut_files]=mutmut
  [report]=report [report_html]=report [report_markdown]=report [report_schema]=report
  [mutant_sources]=report
  [main]=cli [run_command]=cli [merge_command]=cli [report_command]=cli [doctor]=cli [version]=cli
)
order=(common plan state shard run mutmut report cli)

dry_run=""
while [ $# -gt 0 ]; do
  case "$1" in
    --map)
      [[ "${2:-}" == *=* ]] || { echo "regroup: --map needs NAME=GROUP" >&2; exit 2; }
      g=${2#*=}
      [[ " ${order[*]} " == *" $g "* ]] || { echo "regroup: unknown group '$g' (one of: ${order[*]})" >&2; exit 2; }
      group[${2%%=*}]=$g
      shift 2
      ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "regroup: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

[ -f CMakeLists.txt ] && [ -d executor ] && [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$PWD" ] ||
  { echo "regroup: run this at the repository root" >&2; exit 2; }
if [ -z "$dry_run" ] && [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "regroup: the checkout has uncommitted changes; commit or stash them first" >&2
  exit 2
fi

# The module a file belongs to: its name without extension and test suffix.
module_of() {
  local b=${1##*/}
  b=${b%.h.in}; b=${b%.cc}; b=${b%.h}; b=${b%_perftest}; b=${b%_test}
  echo "$b"
}

mapfile -t files < <(git ls-files executor | awk -F/ 'NF == 2')
if [ ${#files[@]} -eq 0 ]; then
  echo "regroup: executor/ has no files at its top level: already regrouped?" >&2
  exit 2
fi
unknown=()
for f in "${files[@]}"; do
  [ -n "${group[$(module_of "$f")]:-}" ] || unknown+=("$f")
done
if [ ${#unknown[@]} -gt 0 ]; then
  echo "regroup: these executor/ files are in no group; nothing was moved:" >&2
  printf '  %s\n' "${unknown[@]}" >&2
  echo "assign each module with --map NAME=GROUP (groups: ${order[*]}), e.g. --map $(module_of "${unknown[0]}")=run" >&2
  exit 1
fi

if [ -n "$dry_run" ]; then
  for f in "${files[@]}"; do echo "$f -> executor/${group[$(module_of "$f")]}/${f#executor/}"; done
  exit 0
fi

for g in "${order[@]}"; do mkdir -p "executor/$g"; done
for f in "${files[@]}"; do git mv "$f" "executor/${group[$(module_of "$f")]}/${f#executor/}"; done
for g in "${order[@]}"; do rmdir "executor/$g" 2>/dev/null || true; done  # a group with no files

# Every tracked text file: executor/NAME followed by ".", "_test.", "_perftest."
# or ".{" becomes executor/GROUP/NAME (executor/report_html.h is not
# executor/report's). Globs in prose ("executor/report*.cc") are left alone.
map=""
for m in "${!group[@]}"; do map+="$m=${group[$m]} "; done
git ls-files -z | REGROUP_MAP="$map" python3 -c '
import os, re, sys
groups = dict(p.split("=") for p in os.environ["REGROUP_MAP"].split())
names = "|".join(sorted(map(re.escape, groups), key=len, reverse=True))
pat = re.compile(r"\bexecutor/(" + names + r")(?=\.|_test\.|_perftest\.)")
text_ext = (".h", ".cc", ".in", ".txt", ".cmake", ".md", ".py", ".sh", ".yml", ".yaml", ".toml", ".cfg", ".json", ".js", ".html")
changed = 0
for path in sys.stdin.read().split("\0"):
    if not path or not (path.endswith(text_ext) or os.path.basename(path) in ("dev", "run", "Makefile")):
        continue
    if path.startswith("scripts/regroup-executor"):
        continue
    try:
        with open(path, encoding="utf-8") as f:
            s = f.read()
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        continue
    t = pat.sub(lambda m: "executor/" + groups[m.group(1)] + "/" + m.group(1), s)
    if t != s:
        with open(path, "w", encoding="utf-8") as f:
            f.write(t)
        changed += 1
print(f"regroup: rewrote references in {changed} files")
'

# CMake: the executor sources are now one level down.
python3 - <<'EOF'
import re, sys
p = "CMakeLists.txt"
s = open(p).read()
old = "file(GLOB cc CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*.cc)"
if old not in s:
    sys.exit("regroup: CMakeLists.txt no longer globs sources as expected; update its source lists by hand")
s = s.replace(old, "file(GLOB_RECURSE cc CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*.cc)")
s = s.replace("# Each top-level directory is a flat set of name.h/name.cc pairs; tests sit\n"
              "# beside their source as name_test.cc. Globbing keeps the build in step with\n"
              "# the tree without anyone editing this file for a new module.",
              "# Each top-level directory is a set of name.h/name.cc pairs (executor/ has one\n"
              "# subfolder per concern); tests sit beside their source as name_test.cc.\n"
              "# Globbing keeps the build in step with the tree without anyone editing this\n"
              "# file for a new module or folder.")
open(p, "w").write(s)

p = "README.md"
s = open(p).read()
line = re.compile(r"^executor/ {3}.*$", re.M)
block = """executor/   what to run, in what order, and what happened, one folder per concern:
  common/   atomic files, JSON lines, exit codes, signals, install paths, fingerprints
  plan/     plans, config, verdicts
  state/    journal, state directory and lock, reuse of verdicts, gates
  shard/    shards and merge
  run/      scheduler, session, progress, output logs
  mutmut/   mutmut's files and `mutcell mutmut`
  report/   reports (table, JSON, CSV, markdown, HTML) and mutant sources
  cli/      main, the commands, doctor"""
if line.search(s):
    s = line.sub(lambda m: block, s, count=1)
    open(p, "w").write(s)
else:
    print("regroup: README.md has no 'executor/   ...' layout line; update its Development section by hand", file=sys.stderr)
EOF

# Checks: no include of a path that does not exist, and no folder includes a
# later one (the one-way flow above).
bad=0
while IFS= read -r hit; do
  inc=${hit#*#include \"}; inc=${inc%%\"*}
  if [ ! -f "$inc" ]; then echo "regroup: ${hit%%:*} includes $inc, which does not exist" >&2; bad=1; fi
done < <(git grep -n '#include "executor/' -- '*.h' '*.cc' || true)
rank() { local i; for i in "${!order[@]}"; do [ "${order[$i]}" = "$1" ] && echo "$i" && return; done; echo 99; }
while IFS= read -r hit; do
  file=${hit%%:*}
  inc=${hit#*#include \"executor/}; inc=${inc%%/*}
  from=$(echo "$file" | cut -d/ -f2)
  case "$file" in executor/*/*) ;; *) continue ;; esac
  if [ "$(rank "$inc")" -gt "$(rank "$from")" ]; then
    echo "regroup: note: $file ($from) includes executor/$inc/: against the one-way order ${order[*]}" >&2
  fi
done < <(git grep -n '#include "executor/' -- 'executor/*' || true)
[ $bad -eq 0 ] || exit 1
git add -A executor CMakeLists.txt README.md
git add -u
echo "regroup: done and staged; now: cmake --build build && (cd build && ctest -L unit) && git commit"

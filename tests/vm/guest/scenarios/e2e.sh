# `mutcell mutmut` on cgroup v2 under systemd, end to end, on examples/clean:
# zygote cells recycled by count, the run's peak within the budget, SIGKILL of
# mutcell mid-run then a resume that leaves nothing behind, and verdicts equal
# to `mutmut run`'s. E2E_MUTANTS: mutant-name globs for both tools, or `all`.
# The default is a fixed subset, the 12 mutants of clamp (8 killed, 4
# surviving on the host): under TCG all 324 take far too long for the
# guest's 10 minutes (mutmut run alone: 2.6/s on the host, ~0.3/s in the guest).
source "$PAYLOAD/scenarios/lib.sh"
subset='textkit.numbers.x_clamp*'
read -r -a globs <<<"${E2E_MUTANTS:-$subset}"
[ "${globs[*]}" = all ] && globs=()
say "examples/clean, mutants: ${globs[*]:-all}"

# 1. The reference: mutmut run.
copy_example clean "$HOME/e2e-mutmut"
cd "$HOME/e2e-mutmut" || exit 1
unit_run e2e-mutmut -p MemoryMax=2G -- "$VENV/bin/mutmut" run --max-children 2 "${globs[@]}"
meta_codes . "$RESULTS/mutmut-codes.json"
check "mutmut run finished (Result success)" [ "$UNIT_RESULT" = success ]

# 2. mutcell mutmut in a delegated unit on examples/runaway (24 mutants, all
# of them: named mutants are always re-tested, as with `mutmut run NAME`, so
# a resume is only a resume without names); the unit's main process is this
# driver, which SIGKILLs mutcell once 6 results are journaled, looks at what
# the dead run left, and resumes.
copy_example runaway "$HOME/e2e-mutcell"
cd "$HOME/e2e-mutcell" || exit 1
cat >"$HOME/e2e-driver.sh" <<'EOF'
#!/bin/bash
out=$RESULTS/e2e-driver
mkdir -p "$out"
own=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)
unit=${own%/mutcell-init}
args=(mutmut --max-children 2 --recycle-after 3 --memory-budget 700M --cell-memory 200M "$@")
mutcell "${args[@]}" >"$out/first.log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  n=$(grep -c '"type":"result"' .mutcell/journal.jsonl 2>/dev/null)
  [ "${n:-0}" -ge 6 ] && break
  sleep 0.2
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
echo "$(grep -c '"type":"result"' .mutcell/journal.jsonl)" >"$out/after-kill.results"
sleep 1
find "$unit" -mindepth 1 -type d | sed "s|^$unit/||" >"$out/after-kill.cgroups"
mutcell "${args[@]}" >"$out/resume.log" 2>&1
echo $? >"$out/resume.rc"
sleep 0.5
find "$unit" -mindepth 1 -type d | sed "s|^$unit/||" >"$out/after-resume.cgroups"
# Every process still in the unit but this driver and its own children
# (the subshells and commands of this very pipeline).
cat $(find "$unit" -name cgroup.procs) | while read -r p; do ps -o pid=,ppid=,comm= -p "$p"; done |
  awk -v me=$$ '$1 != me && $2 != me' >"$out/after-resume.procs"
EOF
chmod +x "$HOME/e2e-driver.sh"
unit_run e2e-mutcell -p MemoryMax=1500M -p Delegate=yes -E RESULTS="$RESULTS" -- "$HOME/e2e-driver.sh"
d=$RESULTS/e2e-driver
sed 's/^/  first| /' "$d/first.log" | tail -n 8
sed 's/^/  resume| /' "$d/resume.log" | tail -n 12
check "the driver's unit succeeded, oom_kill 0 in it and in system.slice" \
  [ "$UNIT_RESULT" = success -a "$UNIT_OOM" = 0 -a "$UNIT_SLICE_OOM" = 0 ]
check "mutcell was SIGKILLed mid-run ($(cat "$d/after-kill.results") results journaled)" \
  [ "$(cat "$d/after-kill.results")" -ge 6 ]
say "after the SIGKILL, the unit's cgroups: $(tr '\n' ' ' <"$d/after-kill.cgroups")"
check "the resume exited 0" [ "$(cat "$d/resume.rc")" = 0 ]
check "the resume removed the dead run's cgroup" grep -q 'left by dead run' "$d/resume.log"
check "the resume ran only what was left" grep -q "reusing [1-9][0-9]* verdicts" "$d/resume.log"
check "no cgroup left in the unit after the resume ($(tr '\n' ' ' <"$d/after-resume.cgroups"))" \
  [ ! -s "$d/after-resume.cgroups" ]
check "no process left but the driver ($(tr '\n' ' ' <"$d/after-resume.procs"))" [ ! -s "$d/after-resume.procs" ]
check "cells on the v2 backend" grep -q 'cgroup v2: run cgroup' "$d/resume.log"

# The journal: zygote generations (recycled every 3 children) and the budget.
python3 - .mutcell/journal.jsonl "$d/resume.log" >"$RESULTS/e2e-journal.txt" <<'PY'
import collections, json, re, sys
res, headers = {}, []
per_gen = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "header":
        headers.append(r)
    elif r.get("type") == "result":
        res[r["id"]] = r
        if r.get("zygote_generation") is not None:
            per_gen[(len(headers), r["zygote_generation"])] += 1
print("sessions", len(headers))
print("generations", len(per_gen))
print("max_per_generation", max(per_gen.values()) if per_gen else 0)
print("verdicts", " ".join(f"{k}={v}" for k, v in sorted(collections.Counter(r["verdict"] for r in res.values()).items())))
m = re.search(r"run cgroup peak .*?\((\d+) bytes\) of budget .*?\((\d+) bytes\)", open(sys.argv[2]).read())
print("peak", m.group(1) if m else -1)
print("budget", m.group(2) if m else -1)
PY
sed 's/^/  journal: /' "$RESULTS/e2e-journal.txt"
val() { awk -v k="$1" '$1==k{print $2}' "$RESULTS/e2e-journal.txt"; }
check "two sessions in the journal (killed run, resume)" [ "$(val sessions)" = 2 ]
check "zygotes recycled by count: $(val generations) generations, at most 3 children each" \
  [ "$(val generations)" -ge 3 -a "$(val max_per_generation)" -le 3 ]
check "the run's peak $(val peak) within its budget $(val budget)" [ "$(val peak)" -gt 0 -a "$(val peak)" -le "$(val budget)" ]

# 3. Verdicts equal to mutmut run's (as mutmut reads them from the .meta
# files), on the same mutants of examples/clean.
copy_example clean "$HOME/e2e-parity"
cd "$HOME/e2e-parity" || exit 1
unit_run e2e-parity -p MemoryMax=1500M -p Delegate=yes -- "$VENV/bin/mutcell" mutmut --max-children 2 "${globs[@]}"
check "mutcell mutmut on the subset finished (Result success)" [ "$UNIT_RESULT" = success ]
meta_codes . "$RESULTS/mutcell-codes.json"
"$VENV/bin/python" - "$RESULTS/mutmut-codes.json" "$RESULTS/mutcell-codes.json" >"$RESULTS/e2e-compare.txt" <<'PY'
import json, sys
from mutmut.stats import status_by_exit_code as s
a, b = ({k: v for k, v in json.load(open(p)).items() if v is not None} for p in sys.argv[1:3])
print("recorded", len(a), len(b), "same-set", int(set(a) == set(b)))
for k in sorted(set(a) | set(b)):
    if s.get(a.get(k), a.get(k)) != s.get(b.get(k), b.get(k)):
        print("differs", k, a.get(k), b.get(k))
print("statuses", " ".join(f"{v}={list(map(s.get, a.values())).count(v)}" for v in sorted(set(map(s.get, a.values())))))
PY
sed 's/^/  compare: /' "$RESULTS/e2e-compare.txt" | head -n 20
read -r _ n_mm n_mc _ same < "$RESULTS/e2e-compare.txt"
check "both recorded the same $n_mm mutants ($n_mc)" [ "$same" = 1 -a "$n_mm" -gt 0 ]
check "verdicts equal to mutmut run's" [ "$(grep -c '^differs' "$RESULTS/e2e-compare.txt")" = 0 ]
finish

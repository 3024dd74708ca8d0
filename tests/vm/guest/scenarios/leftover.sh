# Memory a finished mutant leaves behind, on cgroup v2 under systemd (issue
# 13; the host's EnvironmentErrorTest.MemoryAFinishedMutantLeaves... on v1):
# a mutant writes 150 MiB into /dev/shm and exits; those pages stay charged to
# the run cgroup (v2 memory.current of the run, the cell's memory.stat shmem).
# Three innocents of 130 MiB each then run two at a time in a 400 MiB budget:
# each must survive (admission counts what the run really holds), the leaver
# is named (left_behind_bytes), and no kernel OOM kill happens in the unit.
# Also the cells' CPU control on v2 (issue 14): a mutant reads its own cell's
# cpu.max, which --cell-cpu 1 sets to one CPU. 50 s under TCG on a loaded host
# (the run itself 23 s).
source "$PAYLOAD/scenarios/lib.sh"
mc=$VENV/bin/mutcell
work=$HOME/leftover
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
shm=/dev/shm/mutcell-leftover-$$
innocent='import time
b = bytearray(130 << 20)
for i in range(0, len(b), 4096): b[i] = 1
time.sleep(1.5)'
python3 - "$shm" "$innocent" >plan.jsonl <<'PY'
import json, sys
shm, innocent = sys.argv[1:3]
print(json.dumps({"id": "m.leaver", "argv": ["sh", "-c", f"head -c 157286400 /dev/zero > {shm}"]}))
for i in range(3):
    print(json.dumps({"id": f"m.innocent{i}", "argv": ["python3", "-c", innocent]}))
print(json.dumps({"id": "m.cpu", "argv": ["sh", "-c",
    'test "$(cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/cpu.max)" = "100000 100000"']}))
PY
unit_run leftover -p MemoryMax=1500M -p Delegate=yes -- "$mc" run --plan plan.jsonl --state-dir st --jobs 2 \
  --cell-memory 170M --memory-budget 400M --cell-cpu 1 --backend v2
rm -f "$shm"
"$mc" report --state-dir st --format json >"$RESULTS/leftover-report.json" 2>"$RESULTS/leftover-report.err"
python3 - "$RESULTS/leftover-report.json" >"$RESULTS/leftover-verdicts.txt" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])):
    print(r["id"], r["verdict"], r.get("left_behind_bytes", 0))
PY
sed 's/^/  verdicts: /' "$RESULTS/leftover-verdicts.txt"
v() { awk -v id="$1" '$1==id{print $2}' "$RESULTS/leftover-verdicts.txt"; }
out=$RESULTS/leftover.out
check "mutcell run exited 0 in its unit (exit $UNIT_RC, result '$UNIT_RESULT')" [ "$UNIT_RC" = 0 -a "$UNIT_RESULT" = success ]
check "cells on the v2 backend with the cpu controller" grep -q 'cgroup v2: run cgroup .*(memory, pids, cpu)' "$out"
check "the innocents survived beside the leftovers: $(v m.innocent0) $(v m.innocent1) $(v m.innocent2)" \
  [ "$(v m.innocent0)" = survived -a "$(v m.innocent1)" = survived -a "$(v m.innocent2)" = survived ]
check "the leaver survived and left >= 140 MiB behind ($(awk '$1=="m.leaver"{print $3}' "$RESULTS/leftover-verdicts.txt") bytes)" \
  awk '$1=="m.leaver" && $2=="survived" && $3 >= 140*1048576 {ok=1} END{exit !ok}' "$RESULTS/leftover-verdicts.txt"
check "the summary names the leaver" grep -q 'left memory behind in the run cgroup (journal field left_behind_bytes): m.leaver' "$out"
check "no kernel OOM kill in the unit ($UNIT_OOM) or system.slice (+$UNIT_SLICE_OOM)" [ "$UNIT_OOM" = 0 -a "$UNIT_SLICE_OOM" = 0 ]
check "no OOM killer named in mutcell's output" bash -c "! grep -q 'OOM killer' '$out'"
check "the mutant's cell has cpu.max 100000 100000 (--cell-cpu 1): $(v m.cpu)" [ "$(v m.cpu)" = survived ]
check "no mutcell cgroup left ($(mutcell_cgroups | tr '\n' ' '))" [ -z "$(mutcell_cgroups)" ]
finish

# Mutants out of reach (issue 14 A.1) on cgroup v2 under systemd, as the
# non-root `runner` in a delegated unit: mutcell cannot make a PID namespace
# by itself here (no CAP_SYS_ADMIN), so each zygote and each exec-mode test
# starts in an unprivileged user namespace with its own PID namespace, and
# still joins its delegated v2 cells from inside. Hostile mutants SIGKILL or
# SIGSTOP mutcell (found in /proc by argv[0] and cwd) or their parent; the
# run completes (exit 0), each mutant ends with exactly one verdict (the
# attackers killed by their tests, never retried), no zygote is lost,
# nothing is left behind. About 60 s under TCG.
source "$PAYLOAD/scenarios/lib.sh"
mc=$VENV/bin/mutcell
work=$HOME/pidns
rm -rf "$work" && mkdir -p "$work/src/hostile" "$work/tests" && cd "$work" || exit 1
cat >pyproject.toml <<'EOF'
[project]
name = "hostile"
version = "0.1.0"

[tool.mutmut]
source_paths = ["src/hostile"]
EOF
: >src/hostile/__init__.py
cat >src/hostile/core.py <<'EOF'
def kill_mutcell(a, b):
    return a + b


def stop_mutcell(a, b):
    return a + b


def kill_parent(a, b):
    return a + b


def stop_parent(a, b):
    return a + b


def sub(a, b):
    return a - b
EOF
# The attack, as a module both modes use: `python3 attack.py ACTION ROOT`
# (exec mode) or attack(ACTION) from a test under that function's first mutant.
cat >attack.py <<'EOF'
import os, signal, sys


def attack(action, root):
    sig = signal.SIGKILL if action.startswith("kill") else signal.SIGSTOP
    targets = []
    if action.endswith("parent"):
        targets.append(os.getppid())
    else:
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    argv0 = f.read().split(b"\0")[0]
                cwd = os.readlink(f"/proc/{d}/cwd")
            except OSError:
                continue
            if os.path.basename(argv0) == b"mutcell" and cwd == root:
                targets.append(int(d))
        assert targets, "the attack found no mutcell process"
    for pid in targets:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


if __name__ == "__main__":
    attack(sys.argv[1], sys.argv[2])
    sys.exit(1)
EOF
cat >tests/test_core.py <<EOF
import os, sys
sys.path.insert(0, "$work")
from attack import attack
from hostile.core import kill_mutcell, stop_mutcell, kill_parent, stop_parent, sub


def maybe(action):
    if os.environ.get("MUTANT_UNDER_TEST", "").endswith(f"x_{action}__mutmut_1"):
        attack(action, "$work")


def test_kill_mutcell():
    maybe("kill_mutcell")
    assert kill_mutcell(2, 3) == 5


def test_stop_mutcell():
    maybe("stop_mutcell")
    assert stop_mutcell(2, 3) == 5


def test_kill_parent():
    maybe("kill_parent")
    assert kill_parent(2, 3) == 5


def test_stop_parent():
    maybe("stop_parent")
    assert stop_parent(2, 3) == 5


def test_sub():
    assert sub(5, 3) == 2
EOF
attackers="kill_mutcell stop_mutcell kill_parent stop_parent"
python3 - "$work" $attackers >plan.jsonl <<'PY'
import json, sys
root, actions = sys.argv[1], sys.argv[2:]
for a in actions:
    print(json.dumps({"id": "exec." + a, "argv": ["python3", f"{root}/attack.py", a, root]}))
print(json.dumps({"id": "exec.plain", "argv": ["python3", "-c", "import sys; sys.exit(1)"]}))
PY
say "mutcell doctor: $("$mc" doctor 2>&1 | grep '^pid ns:')"

# --- zygote mode, real mutmut. The unit's own timeout is the hang guard. ---
unit_run pidns-zygote -p MemoryMax=1500M -p Delegate=yes -p RuntimeMaxSec=600 -- \
  "$mc" mutmut --max-children 2 --timeout 60 --state-dir .mc-zygote
out=$RESULTS/pidns-zygote.out
tail -n 25 "$out" | sed 's/^/  zygote| /'
backend=$(head -n 1 .mc-zygote/journal.jsonl 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("backend",""))' 2>/dev/null)
check "zygote mode: mutcell mutmut exited 0 in its unit (exit $UNIT_RC, result '$UNIT_RESULT')" \
  [ "$UNIT_RC" = 0 -a "$UNIT_RESULT" = success ]
check "zygote mode: backend v2 (journal says '$backend')" [ "$backend" = v2 ]
check "zygote mode: mutants got a PID namespace (no warning)" bash -c "! grep -q 'no PID namespace' '$out'"
check "zygote mode: no zygote was lost" bash -c "! grep -q 'running mutants will be retried' '$out'"
"$mc" report --state-dir .mc-zygote --format json >"$RESULTS/pidns-zygote-report.json" 2>"$RESULTS/pidns-zygote-report.err"
python3 - "$RESULTS/pidns-zygote-report.json" >"$RESULTS/pidns-zygote-verdicts.txt" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])):
    print(r["id"], r["verdict"], r.get("attempts", 1))
PY
sed 's/^/  verdicts: /' "$RESULTS/pidns-zygote-verdicts.txt"
for a in $attackers; do
  check "zygote mode: the $a mutant is killed by its test, in one attempt" \
    awk -v s="x_${a}__mutmut_1" 'substr($1, length($1) - length(s) + 1) == s && $2 == "killed" && $3 == 1 {ok=1} END{exit !ok}' \
    "$RESULTS/pidns-zygote-verdicts.txt"
done
check "zygote mode: every mutant has a verdict of its tests in one attempt" \
  awk 'NF != 3 || ($2 != "killed" && $2 != "survived") || $3 != 1 {bad=1} END{exit bad || NR < 5}' \
  "$RESULTS/pidns-zygote-verdicts.txt"

# --- exec mode, a plan: the tiny init of each test is PID 1 of its namespace. ---
unit_run pidns-exec -p MemoryMax=1500M -p Delegate=yes -p RuntimeMaxSec=300 -- \
  "$mc" run --plan plan.jsonl --jobs 2 --state-dir .mc-exec --backend v2
out=$RESULTS/pidns-exec.out
tail -n 15 "$out" | sed 's/^/  exec| /'
check "exec mode: mutcell run exited 0 in its unit (exit $UNIT_RC, result '$UNIT_RESULT')" \
  [ "$UNIT_RC" = 0 -a "$UNIT_RESULT" = success ]
check "exec mode: mutants got a PID namespace (no warning)" bash -c "! grep -q 'no PID namespace' '$out'"
killed=$(journal_verdicts .mc-exec killed | tr '\n' ' ')
check "exec mode: all five killed ($killed)" \
  [ "$killed" = "exec.kill_mutcell exec.kill_parent exec.plain exec.stop_mutcell exec.stop_parent " ]

check "no mutcell cgroup left ($(mutcell_cgroups | tr '\n' ' '))" [ -z "$(mutcell_cgroups)" ]
left=$(pgrep -u "$(id -u)" -f 'mutcell_zygote|attack.py' | tr '\n' ' ')
check "no zygote or mutant left running ($left)" [ -z "$left" ]
finish

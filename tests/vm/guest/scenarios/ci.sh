# A GitHub Actions job's run steps, as GitHub runs them: as `runner` inside a
# system service (the runner's), each step `bash -e` with passwordless sudo.
# Steps of the workflow (examples/ci/github-actions-mutmut.yml once it exists;
# until then written from its steps here): set up Python and install mutcell
# with pip, run `sudo mutcell mutmut --require-cells` (the sudo mode: cgroups
# as root, everything else as runner), cancel that step (SIGINT, as GitHub's
# cancel does), run it again (it resumes), then report and merge.
source "$PAYLOAD/scenarios/lib.sh"
work=$HOME/ci-job
copy_example runaway "$work"
cd "$work" || exit 1
wf=$PAYLOAD/examples/ci/github-actions-mutmut.yml
[ -f "$wf" ] && say "workflow file present: $(basename "$wf")" || say "no examples/ci/github-actions-mutmut.yml yet: steps written here"

step() {  # step NAME SCRIPT: one `run:` step, as GitHub runs it (bash -e)
  say "step: $1"
  bash -e -c "$2"
}

# Step: install. The guest's boot did what `pip install mutcell` does (the
# wheel, or the cmake --install tree until it exists) into $VENV, where the
# pinned mutmut, pytest and setproctitle already are (as a cached setup step
# would leave them; creating a fresh venv costs ~150 s under TCG). The step
# as written in a workflow, offline here:
step "install" '
pip install -q --disable-pip-version-check --no-index --find-links "$WHEELS" mutmut pytest setproctitle
mkdir -p .venv/bin && ln -sf "$VENV/bin/mutcell" .venv/bin/mutcell
mutcell --version'
check "install step" [ -x .venv/bin/mutcell ]

strict=()
if .venv/bin/mutcell mutmut --help 2>&1 | grep -q -- '--require-cells'; then
  strict=(--require-cells)
else
  say "NOTE: this mutcell has no --require-cells (sudo mode of helper nonroot not merged): running without it, ownership not checked"
fi
run_step="exec sudo --preserve-env=PATH $VENV/bin/mutcell mutmut ${strict[*]} --max-children 2 --state-dir mutcell-state"

# Step: run, cancelled once some mutants are journaled.
bash -e -c "$run_step" >"$RESULTS/run1.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  n=$(grep -c '"type":"result"' mutcell-state/journal.jsonl 2>/dev/null)
  [ "${n:-0}" -ge 6 ] && break
  [ -e /proc/$pid ] || break
  sleep 0.2
done
say "cancel: SIGINT after ${n:-0} results to $(ps -o pid=,ruid=,euid=,args= -p "$pid" 2>&1 | cut -c1-120)"
kill -INT "$pid" || say "kill -INT $pid failed"
wait "$pid"
rc1=$?
tail -n 5 "$RESULTS/run1.log" | sed 's/^/  run1| /'
check "the cancelled step exited 130 (128+SIGINT; exit $rc1)" [ "$rc1" = 130 ]
read -r rec1 total < <(meta_counts .)
check "the cancelled step recorded some, not all ($rec1/$total)" [ "$rec1" -gt 0 -a "$rec1" -lt "$total" ]

# Step: re-run: it resumes.
bash -e -c "$run_step" >"$RESULTS/run2.log" 2>&1
rc2=$?
tail -n 8 "$RESULTS/run2.log" | sed 's/^/  run2| /'
check "the re-run step exited 0" [ "$rc2" = 0 ]
read -r rec2 total < <(meta_counts .)
check "every mutant recorded ($rec2/$total)" [ "$rec2" = "$total" ]
check "the runaway is oom" grep -q x_read_blocks <(journal_verdicts mutcell-state oom)
check "cells on the v2 backend" grep -q 'cgroup v2' "$RESULTS/run2.log"
if [ ${#strict[@]} -gt 0 ]; then
  bad=$(find . mutcell-state -not -user runner 2>/dev/null | head -n 5 | tr '\n' ' ')
  check "everything mutcell wrote is owned by runner (${bad:-ok})" [ -z "$bad" ]
fi

# Steps: merge and report, as runner.
step "merge and report" '
mutcell merge --out merged mutcell-state
mutcell report --state-dir merged --format json >"$RESULTS/report.json"
mutcell report --state-dir merged --require-complete >/dev/null'
check "merge and report (--require-complete)" [ $? = 0 ]
check "no mutcell cgroup left" [ -z "$(mutcell_cgroups)" ]
finish

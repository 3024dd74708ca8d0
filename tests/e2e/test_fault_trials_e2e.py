"""Randomised fault trials of `mutcell mutmut` (issue 14), with real mutmut and
pytest on a copy of examples/runaway: SIGTERM or SIGKILL of mutcell at a random
moment of each phase (mutmut's preparation, the zygote's warm-up, the strategy
check, the mutant phase, the write-back to `.meta`), and SIGKILL of the zygote
at random moments. After each trial the same command resumes the run; then
every mutant has exactly one verdict, equal to an uninterrupted run's, mutmut's
`.meta` files hold the same exit codes, and no process or cgroup of either run
is left.

The moments come from a seeded generator (MUTCELL_TRIAL_SEED, printed with
every failure) so a failing trial can be replayed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from e2e_util import ENV, MUTCELL, copy_example, exit_codes, processes_in, run_cgroups, zygotes_of

SEED = int(os.environ.get("MUTCELL_TRIAL_SEED", "20261201"))
COMMAND = [MUTCELL, "mutmut", "--max-children", "2"]


def verdicts(project: Path) -> dict[str, str]:
    r = subprocess.run([MUTCELL, "report", "--format", "json"], cwd=project, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return {rec["id"]: rec["verdict"] for rec in json.loads(r.stdout)}


def result_records(project: Path) -> dict[str, int]:
    """How many result records the journal holds per mutant."""
    counts: dict[str, int] = {}
    for line in (project / ".mutcell" / "journal.jsonl").read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a torn last line of a killed run; the loader's business
        if rec.get("type") == "result":
            counts[rec["id"]] = counts.get(rec["id"], 0) + 1
    return counts


def journal_has(project: Path, kind: str) -> bool:
    try:
        return f'"type":"{kind}"' in (project / ".mutcell" / "journal.jsonl").read_text()
    except OSError:
        return False


# Each phase by what can be seen of it from outside.
PHASES = {
    "preparation": lambda p: bool(processes_in(p, "mutcell_prepare.py")),
    "warm-up": lambda p: bool(processes_in(p, "mutcell_zygote.py")),
    "strategy-check": lambda p: (p / ".mutcell" / "strategy-check-collected.jsonl").exists(),
    "mutants": lambda p: journal_has(p, "result"),
    "write-back": lambda p: journal_has(p, "complete"),
}


def wait_for(predicate, proc: subprocess.Popen, what: str) -> bool:
    """Polls until `predicate()` holds or the run ends by itself (a bound on a hang only)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    proc.kill()
    pytest.fail(f"{what} never came within 300 s")


def wait_gone(project: Path, pids: list[int]) -> None:
    """Processes of a stopped run die with it; the kernel gets a moment (a bound on a hang, not a speed)."""
    deadline = time.monotonic() + 30
    while (processes_in(project) or run_cgroups(pids)) and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    project = copy_example("runaway", tmp_path_factory.mktemp("reference") / "runaway")
    r = subprocess.run(COMMAND, cwd=project, env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    ref = {"verdicts": verdicts(project), "meta": exit_codes(project)}
    assert len(ref["verdicts"]) == 24 and "oom" in ref["verdicts"].values(), ref
    return ref


def resume_and_check(project: Path, reference: dict, interrupted_pid: int, label: str) -> None:
    resumed = subprocess.Popen(COMMAND, cwd=project, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    out, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, f"{label}: the resume exited {resumed.returncode}:\n{out[-3000:]}"
    assert verdicts(project) == reference["verdicts"], f"{label}:\n{out[-3000:]}"
    records = result_records(project)
    assert sorted(records) == sorted(reference["verdicts"]), label
    duplicated = {k: n for k, n in records.items() if n != 1}
    assert not duplicated, f"{label}: mutants with more than one verdict: {duplicated}"
    assert exit_codes(project) == reference["meta"], f"{label}: .meta differs from the uninterrupted run's"
    wait_gone(project, [interrupted_pid, resumed.pid])
    assert not processes_in(project), f"{label}: processes left: {processes_in(project)}"
    assert not run_cgroups([interrupted_pid, resumed.pid]), f"{label}: cgroups left: " + \
        str(run_cgroups([interrupted_pid, resumed.pid]))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
@pytest.mark.parametrize("phase", list(PHASES))
def test_mutcell_interrupted_at_a_random_moment_of_each_phase_resumes_to_the_same_verdicts(
        tmp_path, reference, phase, sig):
    rng = random.Random(f"{SEED}-{phase}-{int(sig)}")
    delay = rng.uniform(0, 0.15)
    label = f"{phase}, {signal.Signals(sig).name} {delay * 1000:.0f} ms after it was seen (MUTCELL_TRIAL_SEED={SEED})"
    project = copy_example("runaway", tmp_path / "runaway")
    proc = subprocess.Popen(COMMAND, cwd=project, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    seen = wait_for(lambda: PHASES[phase](project), proc, phase)
    assert seen, f"{label}: the run ended before the phase was seen (exit {proc.returncode})"
    time.sleep(delay)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=120)  # catches a hang only: the signal is honoured at once
    # 0: the run got to its end before the signal came (the write-back is short).
    expected = 128 + sig if sig == signal.SIGTERM else -sig
    assert proc.returncode in (expected, 0), f"{label}: exit {proc.returncode}:\n{out[-3000:]}"
    if sig == signal.SIGTERM:
        # SIGTERM leaves nothing behind by itself, before any resume.
        wait_gone(project, [proc.pid])
        assert not processes_in(project), f"{label}: processes outlived mutcell: {processes_in(project)}"
        assert not run_cgroups([proc.pid]), f"{label}: cgroups left: {run_cgroups([proc.pid])}"
    else:
        # Nothing can clean up after SIGKILL but the kernel: the zygote and the
        # preparation must die with mutcell all the same.
        wait_gone(project, [])
        assert not processes_in(project), f"{label}: processes outlived mutcell: {processes_in(project)}"
    resume_and_check(project, reference, proc.pid, label)


@pytest.mark.parametrize("trial", range(4))
def test_zygotes_killed_at_random_moments_lose_nothing(tmp_path, reference, trial):
    rng = random.Random(f"{SEED}-zygote-{trial}")
    project = copy_example("runaway", tmp_path / "runaway")
    proc = subprocess.Popen(COMMAND, cwd=project, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    kills = []
    for _ in range(2):  # two kills a run, each of whichever zygote serves then
        if not wait_for(lambda: zygotes_of(proc.pid, project), proc, "a zygote"):
            break
        delay = rng.uniform(0, 0.4)  # the example's whole run is a few seconds
        time.sleep(delay)
        for pid in zygotes_of(proc.pid, project):
            try:
                os.kill(pid, signal.SIGKILL)
                kills.append(f"{delay * 1000:.0f} ms")
            except ProcessLookupError:
                pass
            break
    out, _ = proc.communicate(timeout=600)
    label = f"trial {trial}, zygote SIGKILLs after {kills} (MUTCELL_TRIAL_SEED={SEED})"
    assert kills, f"{label}: no zygote was killed"
    assert proc.returncode == 0, f"{label}: exit {proc.returncode}:\n{out[-3000:]}"
    # The run itself is complete: the resume has nothing to do but must agree.
    resume_and_check(project, reference, proc.pid, label)

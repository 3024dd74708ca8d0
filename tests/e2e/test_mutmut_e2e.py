"""`mutcell mutmut` against real `mutmut run` (mutmut 3.8.1 from PyPI) on the
bundled examples: same verdict for every mutant, the runaway bounded as oom,
`mutmut results` still working, recycling at the configured count, and a
zygote killed mid-run losing nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from e2e_util import ENV, MUTCELL, copy_example, exit_codes, zygotes_of
RUNAWAY = "blocks.core.x_read_blocks__mutmut_8"


def status(code: int | None) -> str:
    """mutmut's status for a stored exit code (stats.py status_by_exit_code)."""
    from mutmut.stats import status_by_exit_code  # the installed mutmut's own table
    return status_by_exit_code[code]


def mutmut_run(project: Path, *, ulimit_kb: int | None = None) -> subprocess.CompletedProcess:
    cmd = "mutmut run --max-children 2"
    if ulimit_kb:
        # Bounds the runaway for mutmut, which cannot: a MemoryError, not the machine.
        cmd = f"ulimit -v {ulimit_kb}; {cmd}"
    return subprocess.run(["bash", "-c", cmd], cwd=project, env=ENV, capture_output=True, text=True, timeout=900)


def mutcell_mutmut(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MUTCELL, "mutmut", "--max-children", "2", *args], cwd=project, env=ENV,
                          capture_output=True, text=True, timeout=900)


def report(project: Path) -> list[dict]:
    r = subprocess.run([MUTCELL, "report", "--format", "json"], cwd=project, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def mutmut_reference(tmp_path_factory) -> dict[str, dict[str, int | None]]:
    """`mutmut run` on each example, once."""
    refs = {}
    for name in ("clean", "runaway"):
        project = copy_example(name, tmp_path_factory.mktemp(f"ref-{name}") / name)
        r = mutmut_run(project, ulimit_kb=4 << 20 if name == "runaway" else None)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        refs[name] = exit_codes(project)
        assert refs[name] and all(v is not None for v in refs[name].values()), refs[name]
    return refs


@pytest.mark.parametrize("strategy", ["pytest-main", "collected"])
@pytest.mark.parametrize("example", ["clean", "runaway"])
def test_mutcell_gives_mutmuts_verdict_for_every_mutant(tmp_path, mutmut_reference, example, strategy):
    project = copy_example(example, tmp_path / example)
    r = mutcell_mutmut(project, "--strategy", strategy)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    ours, theirs = exit_codes(project), mutmut_reference[example]
    assert ours.keys() == theirs.keys()
    differ = {k: (status(ours[k]), status(theirs[k])) for k in ours
              if k != RUNAWAY and status(ours[k]) != status(theirs[k])}
    assert not differ, f"{len(differ)} verdicts differ (mutcell, mutmut): {differ}"
    if example == "runaway":
        verdicts = {r["id"]: r["verdict"] for r in report(project)}
        assert verdicts[RUNAWAY] == "oom"
        assert status(ours[RUNAWAY]) == "timeout"  # oom_exit_code 36


def test_mutmut_results_lists_mutcells_verdicts(tmp_path):
    project = copy_example("runaway", tmp_path / "runaway")
    assert mutcell_mutmut(project).returncode == 0
    r = subprocess.run(["mutmut", "results"], cwd=project, env=ENV, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = {line.strip() for line in r.stdout.splitlines() if line.strip()}
    assert f"{RUNAWAY}: timeout" in lines
    survivors = [k for k, v in exit_codes(project).items() if v == 0]
    assert survivors and all(f"{k}: survived" in lines for k in survivors)


def test_the_zygote_is_recycled_after_the_configured_count(tmp_path):
    project = copy_example("runaway", tmp_path / "runaway")
    # Without the strategy check: its sample would be generation 1's first children.
    r = mutcell_mutmut(project, "--recycle-after", "5", "--recycle-growth", "0", "--strategy-check", "0")
    assert r.returncode == 0, r.stderr[-3000:]
    served: dict[int, int] = {}
    for rec in report(project):
        if rec["zygote_generation"] is not None:
            served[rec["zygote_generation"]] = served.get(rec["zygote_generation"], 0) + 1
    ran = sum(served.values())
    assert ran >= 20
    assert all(n <= 5 for n in served.values()), served
    assert len(served) == -(-ran // 5), served  # every generation but the last served exactly 5


def test_a_zygote_killed_mid_run_is_replaced_and_no_mutant_is_lost_or_counted_twice(tmp_path, mutmut_reference):
    project = copy_example("clean", tmp_path / "clean")
    proc = subprocess.Popen([MUTCELL, "mutmut", "--max-children", "2", "--strategy", "collected"], cwd=project,
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    journal = project / ".mutcell" / "journal.jsonl"
    deadline = time.monotonic() + 300
    killed = None
    while time.monotonic() < deadline and killed is None:
        results = journal.read_text().count('"type":"result"') if journal.exists() else 0
        if results >= 40:
            pids = zygotes_of(proc.pid, project)
            if pids:
                killed = pids[0]
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    out, _ = proc.communicate(timeout=600)
    assert killed, "the run ended before a zygote could be killed"
    assert proc.returncode == 0, out[-3000:]
    assert "zygote generation 2 ready" in out, out[-3000:]
    records = [json.loads(line) for line in journal.read_text().splitlines() if '"type":"result"' in line]
    ids = [rec["id"] for rec in records]
    assert len(ids) == len(set(ids)), "a mutant was counted twice"
    ours = exit_codes(project)
    assert len(ids) == len(ours) == len(mutmut_reference["clean"])
    differ = {k for k in ours if status(ours[k]) != status(mutmut_reference["clean"][k])}
    assert not differ, differ


def test_auto_cell_memory_follows_the_measured_clean_run(tmp_path):
    project = copy_example("runaway", tmp_path / "runaway")
    r = mutcell_mutmut(project, "--cell-memory", "auto", "blocks.core.x_clamp*")
    assert r.returncode == 0, r.stderr[-3000:]
    prepared = json.loads((project / ".mutcell" / "prepare.json").read_text())
    header = json.loads((project / ".mutcell" / "journal.jsonl").read_text().splitlines()[0])
    # The peak of the preparation's process after the tests ran in it: after
    # the clean run, or after the full stats run when the clean run overlapped
    # the warm-up (stats_run "full"; the same tests in the same process).
    peak = header["clean_run_peak_bytes"]
    assert peak == prepared["stats_maxrss_bytes" if prepared["stats_run"] == "full" else "clean_run_maxrss_bytes"]
    mib = 1 << 20
    expected = -(-(peak * 2 + 64 * mib) // mib) * mib  # peak x 2 + 64 MiB, rounded up to a MiB
    assert header["cell_memory_bytes"] == expected
    assert all(rec["cell_limit_bytes"] == expected for rec in report(project))


def test_a_cell_that_cannot_hold_the_clean_run_is_refused_not_every_survivor_oom(tmp_path):
    # 40 MiB is below the clean run's own peak (Python, pytest, mutmut's
    # trampolines: ~50-70 MiB), so every mutant would reach the limit: on
    # main the survivors were recorded as oom (shown by mutmut as caught),
    # exit 0, no warning.
    project = copy_example("clean", tmp_path / "clean")
    r = mutcell_mutmut(project, "--cell-memory", "40M")
    assert r.returncode == 2, r.stderr[-3000:]
    prepared = json.loads((project / ".mutcell" / "prepare.json").read_text())
    assert prepared["clean_run_maxrss_bytes"] > 40 << 20
    assert "the clean test run peaked at" in r.stderr, r.stderr[-3000:]
    assert "Raise --cell-memory (cell_memory) to at least" in r.stderr, r.stderr[-3000:]
    assert not (project / ".mutcell" / "journal.jsonl").exists(), "nothing may be recorded"

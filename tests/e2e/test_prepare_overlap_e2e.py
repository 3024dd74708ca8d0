"""mutmut's clean run and forced-fail test overlapped with the fork servers'
warm-up (issue 16, wall time), with real mutmut and pytest: after a full
stats run has passed, `mutcell mutmut` warms its fork servers while the
preparation's clean run and forced-fail test go on, and no mutant starts
before they passed; a suite that fails only without mutmut's stats recording
still stops the run (exit 1, mutmut's words, nothing run); SIGTERM while both
are under way ends the run at once, leaves nothing behind, and it resumes.

The project's conftest leaves marks in $OV_MARKS: which process imported it
(preparation or fork server), what the clean run saw, and for each mutant
whether mutmut's preparation was still alive when its tests ran. Waits below
are bounded only so that a broken mutcell fails instead of hanging."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from e2e_util import ENV, MUTCELL, processes_in, run_cgroups

SOURCE = '''
def add(a, b):
    return a + b


def sub(a, b):
    return a - b
'''

TESTS = '''
from ov.core import add, sub


def test_add():
    assert add(2, 3) == 5


def test_sub():
    assert sub(5, 3) == 2
'''

# OV_MODE for the clean run (the preparation's run with MUTANT_UNDER_TEST
# empty; mutmut's stats run has "stats", its forced-fail test "fail"):
#   wait: wait (bounded) for a fork server to import this conftest, and say
#         whether one did; fail: fail (so only the stats run passes);
#   hang: hang until killed.
CONFTEST = '''
import os, sys, time
from pathlib import Path

import pytest

MARKS = Path(os.environ["OV_MARKS"]) if os.environ.get("OV_MARKS") else None
MODE = os.environ.get("OV_MODE", "")
ARGV0 = sys.argv[0] if sys.argv else ""
ROLE = "zygote" if ARGV0.endswith("mutcell_zygote.py") else "prepare" if ARGV0.endswith("mutcell_prepare.py") else "other"
if MARKS:
    (MARKS / f"{ROLE}-import-{os.getpid()}").touch()
if MARKS and ROLE == "prepare":
    # The preparation skips the interpreter's teardown, not the exit handlers.
    import atexit
    atexit.register(lambda: (MARKS / f"prepare-atexit-{os.getpid()}").touch())


def zygote_imported():
    return any(MARKS.glob("zygote-import-*"))


@pytest.fixture(autouse=True)
def _overlap_marks():
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    if MARKS and ROLE == "prepare" and mutant == "":
        if MODE == "fail":
            pytest.fail("this suite passes only while mutmut records stats")
        if MODE == "hang":
            (MARKS / "clean-hang").touch()
            while True:
                time.sleep(1)
        if MODE == "wait" and not (MARKS / "clean-waited").exists():
            deadline = time.monotonic() + 60
            while not zygote_imported() and time.monotonic() < deadline:
                time.sleep(0.05)
            (MARKS / ("clean-saw-zygote" if zygote_imported() else "clean-no-zygote")).touch()
            (MARKS / "clean-waited").touch()
    if MARKS and "__mutmut_" in mutant:
        prepare = [int(p.name.rsplit("-", 1)[1]) for p in MARKS.glob("prepare-import-*")]
        alive = [pid for pid in prepare if os.path.exists(f"/proc/{pid}")]
        (MARKS / f"mutant-{os.getpid()}-{'prepare-alive' if alive else 'prepare-gone'}").touch()
    yield
'''


def make_project(root: Path) -> Path:
    (root / "src" / "ov").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "ov"\nversion = "0.1.0"\n\n'
                                         '[tool.mutmut]\nsource_paths = ["src/ov"]\n')
    (root / "src" / "ov" / "__init__.py").write_text("")
    (root / "src" / "ov" / "core.py").write_text(SOURCE)
    (root / "tests" / "test_core.py").write_text(TESTS)
    (root / "tests" / "conftest.py").write_text(CONFTEST)
    return root


def meta_codes(project: Path) -> dict:
    return json.loads((project / "mutants" / "src" / "ov" / "core.py.meta").read_text())["exit_code_by_key"]


def marks(d: Path, prefix: str) -> list[str]:
    return sorted(p.name for p in d.glob(prefix + "*"))


def setup(tmp_path: Path, mode: str) -> tuple[Path, Path, dict]:
    project = make_project(tmp_path / "p")
    d = tmp_path / "marks"
    d.mkdir()
    return project, d, dict(ENV, OV_MARKS=str(d), OV_MODE=mode)


def test_the_fork_servers_warm_up_during_the_clean_run_and_no_mutant_starts_before_it_passed(tmp_path):
    project, d, env = setup(tmp_path, "wait")
    r = subprocess.run([MUTCELL, "mutmut", "--max-children", "2"], cwd=project, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    # The clean run saw a fork server import the tests while it was still going.
    assert marks(d, "clean-") == ["clean-saw-zygote", "clean-waited"], (marks(d, ""), r.stderr[-3000:])
    ran = marks(d, "mutant-")
    assert ran, "no mutant ran"
    assert all(m.endswith("-prepare-gone") for m in ran), ran
    assert marks(d, "prepare-atexit-"), "the preparation's exit handlers did not run"
    assert all(v in (0, 1) for v in meta_codes(project).values()), meta_codes(project)


def test_a_suite_that_fails_only_without_stats_recording_stops_the_run(tmp_path):
    project, d, env = setup(tmp_path, "fail")
    proc = subprocess.Popen([MUTCELL, "mutmut", "--max-children", "2"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 1, out[-3000:]
    assert "mutmut's clean test run failed (exit code 1); fix the test suite first" in out, out[-3000:]
    assert "mutmut's preparation failed (exit 1)" in out, out[-3000:]
    # The failure came while the fork server warmed up (the overlapped path)...
    assert marks(d, "zygote-import-"), out[-3000:]
    # ...and no mutant ran, none has a result, and nothing is left.
    assert not marks(d, "mutant-")
    assert all(v is None for v in meta_codes(project).values()), meta_codes(project)
    assert not processes_in(project)
    assert not run_cgroups([proc.pid])


def test_sigterm_while_the_clean_run_and_the_warm_up_overlap_ends_the_run_and_it_resumes(tmp_path):
    project, d, env = setup(tmp_path, "hang")
    proc = subprocess.Popen([MUTCELL, "mutmut", "--max-children", "2"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while not ((d / "clean-hang").exists() and marks(d, "zygote-import-")) and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    overlapped = (d / "clean-hang").exists() and bool(marks(d, "zygote-import-"))
    if not overlapped:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"the fork server never warmed up while the clean run went on: {marks(d, '')} " + out[-3000:])
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=60)  # only catches a hang
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail("SIGTERM was not honoured: " + out[-3000:])
    assert proc.returncode == 143, out[-3000:]
    assert not processes_in(project), "the preparation or a fork server outlived mutcell"
    assert not run_cgroups([proc.pid])
    assert not marks(d, "mutant-")
    # Resumable: the same command with a passing clean run finishes the run.
    r = subprocess.run([MUTCELL, "mutmut", "--max-children", "2"], cwd=project, env=dict(env, OV_MODE=""),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert all(v in (0, 1) for v in meta_codes(project).values()), meta_codes(project)

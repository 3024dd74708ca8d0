"""Hostile mutants against `mutcell mutmut` (issue 14), with real mutmut and
pytest: mutants that SIGKILL or SIGSTOP mutcell (found in /proc) or their
parent cannot stop the run (each mutant is in its own PID namespace); where
a mutant can reach its zygote (pid_namespace = "off"), one that stops it does
not hang the run; and SIGTERM during mutmut's preparation or the zygote's
warm-up ends the run at once (exit 143, nothing of the project left running,
resumable)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from e2e_util import ENV, MUTCELL, processes_in

SOURCE = '''
def add(a, b):
    return a + b


def sub(a, b):
    return a - b
'''

# The test of `add` stops its parent (the zygote) under one mutant of add.
TESTS = '''
import os, signal
from hostile.core import add, sub


def test_add():
    if os.environ.get("MUTANT_UNDER_TEST", "").endswith("x_add__mutmut_1"):
        os.kill(os.getppid(), signal.SIGSTOP)
    assert add(2, 3) == 5


def test_sub():
    assert sub(5, 3) == 2
'''

# Hangs the process named by HOSTILE_HANG (a substring of sys.argv[0]) at import.
CONFTEST = '''
import os, sys, time
_hang = os.environ.get("HOSTILE_HANG")
if _hang and sys.argv and _hang in sys.argv[0]:
    open(os.environ["HOSTILE_MARK"], "w").close()
    while True:
        time.sleep(1)
'''


def make_project(root: Path) -> Path:
    (root / "src" / "hostile").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "hostile"\nversion = "0.1.0"\n\n'
                                         '[tool.mutmut]\nsource_paths = ["src/hostile"]\n')
    (root / "src" / "hostile" / "__init__.py").write_text("")
    (root / "src" / "hostile" / "core.py").write_text(SOURCE)
    (root / "tests" / "test_core.py").write_text(TESTS)
    (root / "tests" / "conftest.py").write_text(CONFTEST)
    return root


def report(project: Path) -> dict[str, dict]:
    r = subprocess.run([MUTCELL, "report", "--format", "json"], cwd=project, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return {rec["id"]: rec for rec in json.loads(r.stdout)}


@pytest.mark.parametrize("strategy", ["collected", "pytest-main"])
def test_a_child_that_stops_its_zygote_does_not_hang_the_run(tmp_path, strategy):
    project = make_project(tmp_path / "p")
    try:
        # One at a time: a neighbour in flight on the stopped zygote would be
        # retried too, and keeping it apart from the culprit is issue 13's.
        # Without a PID namespace: inside one the SIGSTOP never reaches the zygote.
        r = subprocess.run([MUTCELL, "mutmut", "--max-children", "1", "--strategy", strategy, "--timeout", "20",
                            "--pid-namespace", "off"],
                           cwd=project, env=ENV, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the run hung: {e.stderr[-3000:] if e.stderr else ''}")
    results = report(project)
    assert r.returncode in (0, 3), r.stderr[-3000:]
    stopper = [k for k in results if k.endswith("x_add__mutmut_1")]
    assert stopper, results.keys()
    for k, rec in results.items():
        if k in stopper:
            # Retried alone after its zygote stopped; stopping it again while
            # alone makes it the culprit: `crashed` with the zygote's reason
            # (or `error` if its attempts ran out first).
            assert rec["verdict"] in ("crashed", "error"), rec
            assert rec["error"].startswith("zygote"), rec
        else:
            assert rec["verdict"] in ("killed", "survived", "no_tests"), rec
    assert not processes_in(project)


@pytest.mark.parametrize("phase", ["mutcell_prepare", "mutcell_zygote"])
def test_sigterm_during_preparation_or_warm_up_ends_the_run_and_it_resumes(tmp_path, phase):
    project = make_project(tmp_path / "p")
    mark = tmp_path / "hanging"
    env = dict(ENV, HOSTILE_HANG=phase, HOSTILE_MARK=str(mark))
    proc = subprocess.Popen([MUTCELL, "mutmut", "--max-children", "2"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while not mark.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mark.exists(), "the phase never started"
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=60)  # only catches a hang (the phase never ends by itself)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail("SIGTERM was not honoured: " + out[-3000:])
    assert proc.returncode == 143, out[-3000:]
    assert not processes_in(project), "the preparation or the zygote outlived mutcell"
    # Resumable: the same command without the hang finishes the run.
    r = subprocess.run([MUTCELL, "mutmut", "--max-children", "2"], cwd=project, env=ENV, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode in (0, 3), r.stderr[-3000:]
    assert report(project)


# Each function's first mutant (a + b -> a - b) attacks, then its test fails
# (killed) if it is still running; `sub`'s mutants are the neighbours.
REACH_SOURCE = """
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
"""

# The attack: SIGKILL/SIGSTOP every mutcell process of this project (argv[0]
# named mutcell, cwd HOSTILE_ROOT, never another project's run on the host),
# or the mutant's parent. Errors (ESRCH: nothing by that pid in here) ignored.
REACH_ATTACK = """
import os, signal


def attack(action):
    if not os.environ.get("MUTANT_UNDER_TEST", "").endswith(f"x_{action}__mutmut_1"):
        return
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
                    argv0 = f.read().split(b"\\0")[0]
                cwd = os.readlink(f"/proc/{d}/cwd")
            except OSError:
                continue
            if os.path.basename(argv0) == b"mutcell" and cwd == os.environ["HOSTILE_ROOT"]:
                targets.append(int(d))
        assert targets, "the attack found no mutcell process"
    for pid in targets:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
"""

REACH_TESTS = REACH_ATTACK + """
from hostile.core import kill_mutcell, stop_mutcell, kill_parent, stop_parent, sub


def test_kill_mutcell():
    attack("kill_mutcell")
    assert kill_mutcell(2, 3) == 5


def test_stop_mutcell():
    attack("stop_mutcell")
    assert stop_mutcell(2, 3) == 5


def test_kill_parent():
    attack("kill_parent")
    assert kill_parent(2, 3) == 5


def test_stop_parent():
    attack("stop_parent")
    assert stop_parent(2, 3) == 5


def test_sub():
    assert sub(5, 3) == 2
    assert sub(3, 5) == -2
"""

ATTACKERS = ("kill_mutcell", "stop_mutcell", "kill_parent", "stop_parent")


def run_guarded(cmd: list[str], cwd: Path, env: dict, timeout: float, **kw) -> tuple[int | None, str]:
    """(exit code, stderr); None when it had to be killed (stopped or hung):
    SIGKILL reaches a stopped mutcell too, and its zygote dies with it."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            **kw)
    try:
        _, err = proc.communicate(timeout=timeout)
        return proc.returncode, err
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        return None, err


def test_mutants_that_signal_mutcell_or_their_parent_cannot_stop_the_run(tmp_path):
    project = make_project(tmp_path / "p")
    (project / "src" / "hostile" / "core.py").write_text(REACH_SOURCE)
    (project / "tests" / "test_core.py").write_text(REACH_TESTS)
    env = dict(ENV, HOSTILE_ROOT=str(project))
    # Guarded: on a run that a mutant stopped, the guard is what ends it.
    rc, err = run_guarded([MUTCELL, "mutmut", "--max-children", "2", "--timeout", "30"], project, env, 300)
    assert rc is not None, "the run hung (a mutant stopped mutcell): " + err[-3000:]
    assert rc == 0, f"exit {rc}: " + err[-3000:]
    results = report(project)
    for action in ATTACKERS:
        ids = [k for k in results if k.endswith(f"x_{action}__mutmut_1")]
        assert len(ids) == 1, (action, sorted(results))
        # Its own verdict: the attack reached nothing, its test caught the mutant.
        assert results[ids[0]]["verdict"] == "killed", results[ids[0]]
    for k, rec in results.items():
        assert rec["verdict"] in ("killed", "survived"), rec
        assert rec.get("attempts", 1) == 1, f"{k} was retried: {rec}"
    assert "running mutants will be retried" not in err, "a zygote was hit: " + err[-3000:]
    assert not processes_in(project)


def as_nobody() -> None:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def nobody_can_make_a_user_namespace() -> bool | None:
    """Asked of the kernel with unshare(1), not of mutcell; None without unshare."""
    try:
        r = subprocess.run(["unshare", "--user", "--map-current-user", "true"], preexec_fn=as_nobody,
                           capture_output=True, text=True, timeout=30)
    except (FileNotFoundError, PermissionError):
        return None
    return r.returncode == 0


EXEC_ATTACK = """
import os, signal, sys
action = sys.argv[1]
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
                argv0 = f.read().split(b"\\0")[0]
            cwd = os.readlink(f"/proc/{d}/cwd")
        except OSError:
            continue
        if os.path.basename(argv0) == b"mutcell" and cwd == sys.argv[2]:
            targets.append(int(d))
    assert targets, "the attack found no mutcell process"
for pid in targets:
    try:
        os.kill(pid, sig)
    except OSError:
        pass
sys.exit(1)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="runs mutcell as nobody, which needs root to switch to")
def test_exec_mode_as_a_non_root_user_mutants_cannot_signal_mutcell():
    """As nobody mutcell cannot make a PID namespace by itself (CLONE_NEWPID
    needs CAP_SYS_ADMIN): it takes an unprivileged user namespace."""
    if nobody_can_make_a_user_namespace() is False:
        pytest.skip("this kernel gives nobody no user namespace (unshare --user fails as nobody)")
    python = "/usr/bin/python3"
    if not os.access(python, os.X_OK):
        pytest.skip(f"{python} is missing: the plan's mutants need a Python nobody can run")
    home = Path(tempfile.mkdtemp(prefix="mutcell-nobody-"))  # pytest's tmp_path is root's alone
    try:
        run_exec_attack_as_nobody(home, python)
    finally:
        shutil.rmtree(home)


def run_exec_attack_as_nobody(home: Path, python: str) -> None:
    home.chmod(0o755)
    project = home / "project"
    project.mkdir()
    plan = [{"id": a, "argv": [python, "-c", EXEC_ATTACK, a, str(project)]} for a in ATTACKERS]
    plan.append({"id": "plain", "argv": [python, "-c", "import sys; sys.exit(1)"]})
    (project / "plan.jsonl").write_text("".join(json.dumps(m) + "\n" for m in plan))
    os.chown(project, 65534, 65534)
    os.chown(project / "plan.jsonl", 65534, 65534)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
    try:
        rc, err = run_guarded([MUTCELL, "run", "--plan", "plan.jsonl", "--jobs", "2"], project, env, 120,
                              preexec_fn=as_nobody)
    except PermissionError:
        pytest.skip(f"nobody cannot run {MUTCELL}")
    if "no PID namespace for mutants" in err and nobody_can_make_a_user_namespace() is None:
        pytest.skip("this kernel gives nobody no user namespace: " + err[-600:])
    assert rc is not None, "the run hung (a mutant stopped mutcell): " + err[-3000:]
    assert rc == 0, f"exit {rc}: " + err[-3000:]
    results = report(project)
    assert sorted(results) == sorted([*ATTACKERS, "plain"]), err[-3000:]
    for k, rec in results.items():
        assert rec["verdict"] == "killed", rec
    assert not processes_in(project)

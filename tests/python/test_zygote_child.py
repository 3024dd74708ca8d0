"""The zygote's child, driven standalone like test_zygote.py does: how it
reports a pytest that did not run the tests (exit statuses 110 + N), where
its output goes (the attempt's own log, in both strategies), and what it
does not do per mutant (pytest-cov's measurement and report)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_zygote import MUTMUT, Driver, run_one

LIB = '''
def double(x):
    return x * 2


def triple(x):
    return x * 3
'''

TESTS = '''
import os

from ex.core import double, triple


def test_double():
    if os.environ.get("EX_INTERRUPT"):
        raise KeyboardInterrupt
    assert double(2) == 4, "DOUBLE-FAILED"


def test_triple():
    print("TRIPLE-PRINTED")
    assert triple(2) == 6, "TRIPLE-FAILED"
'''

CONFTEST = '''
import os


def pytest_runtest_logreport(report):
    # Outside the run protocol's own error handling: pytest's INTERNALERROR.
    if os.environ.get("EX_INTERNAL") and report.when == "call":
        raise RuntimeError("EX-INTERNAL-BOOM")
'''

# Child exit status for "pytest ended with N without running the tests".
PYTEST_STATUS = {n: 110 + n for n in (2, 3, 4, 5)}


def make_project(root: Path, pyproject_extra: str = "") -> Path:
    if not MUTMUT.exists():
        pytest.skip(f"mutmut is not installed next to {sys.executable}")
    (root / "src" / "ex").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "ex" / "__init__.py").write_text("")
    (root / "src" / "ex" / "core.py").write_text(LIB)
    (root / "tests" / "test_core.py").write_text(TESTS)
    (root / "tests" / "conftest.py").write_text(CONFTEST)
    (root / "tests" / "test_empty.py").write_text("# no tests here\n")
    (root / "pyproject.toml").write_text('[tool.mutmut]\nsource_paths = ["src/ex"]\n' + pyproject_extra)
    r = subprocess.run([str(MUTMUT), "run", "--max-children", "2"], cwd=root, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("exits") / "ex")


def killed_mutant(project: Path, function: str) -> str:
    meta = json.loads((project / "mutants/src/ex/core.py.meta").read_text())
    killed = sorted(k for k, v in meta["exit_code_by_key"].items() if f"x_{function}__" in k and v == 1)
    assert killed, meta
    return killed[0]


@pytest.fixture(params=["pytest-main", "collected"])
def strategy(request) -> str:
    return request.param


@pytest.mark.parametrize("case,tests,env,pytest_code", [
    ("interrupted", ["tests/test_core.py::test_double"], {"EX_INTERRUPT": "1"}, 2),
    ("internal-error", ["tests/test_core.py::test_triple"], {"EX_INTERNAL": "1"}, 3),
    ("test-not-found", ["tests/test_core.py::test_missing"], {}, 4),
    ("no-tests-ran", ["tests/test_empty.py"], {}, 5),
])
def test_a_pytest_that_did_not_run_the_tests_is_reported_as_such(project, strategy, case, tests, env, pytest_code):
    d = Driver(project, strategy)
    try:
        assert d.recv()["type"] == "ready"
        exited = run_one(d, 1, killed_mutant(project, "double"), tests, env=env, timeout_s=30)
        assert exited["signal"] is None
        assert exited["exit_code"] == PYTEST_STATUS[pytest_code], (case, exited)
        # Tests that ran to a verdict still exit with pytest's own 0 or 1.
        exited = run_one(d, 2, killed_mutant(project, "triple"), ["tests/test_core.py::test_triple"], timeout_s=30)
        assert exited["exit_code"] == 1
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()


def test_each_attempt_writes_its_own_output_into_its_own_log(project, strategy, tmp_path):
    zlog = tmp_path / "zygote.log"
    d = Driver(project, strategy, extra_args=["--log", str(zlog)])
    try:
        assert d.recv()["type"] == "ready"
        logs = {}
        for rid, fn in enumerate(("double", "triple", "double")):
            logs[rid] = tmp_path / f"attempt-{rid}.log"
            exited = run_one(d, rid, killed_mutant(project, fn), [f"tests/test_core.py::test_{fn}"],
                             output=str(logs[rid]), timeout_s=30)
            assert exited["exit_code"] == 1
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()
    text = {rid: p.read_text() for rid, p in logs.items()}
    for rid in (0, 2):
        assert "DOUBLE-FAILED" in text[rid] and "test_double" in text[rid], text[rid]
        assert "TRIPLE" not in text[rid], text[rid]
    assert "TRIPLE-FAILED" in text[1] and "TRIPLE-PRINTED" in text[1], text[1]
    assert "DOUBLE" not in text[1], text[1]
    zygote_log = zlog.read_text()
    assert "DOUBLE-FAILED" not in zygote_log and "TRIPLE-FAILED" not in zygote_log, zygote_log


def test_a_collected_child_logs_its_failures_without_per_test_progress(project, tmp_path):
    # The terminal reporter's per-test hooks are out of a collected child
    # (lean_child_reporting): no progress letters, the failure summary stays.
    d = Driver(project, "collected")
    try:
        assert d.recv()["type"] == "ready"
        passing, failing = tmp_path / "passing.log", tmp_path / "failing.log"
        exited = run_one(d, 1, killed_mutant(project, "triple"), ["tests/test_core.py::test_double"],
                         output=str(passing), timeout_s=30)
        assert exited["exit_code"] == 0
        exited = run_one(d, 2, killed_mutant(project, "double"),
                         ["tests/test_core.py::test_triple", "tests/test_core.py::test_double"],
                         output=str(failing), timeout_s=30)
        assert exited["exit_code"] == 1  # the project's own per-test hook (conftest) still ran: no INTERNALERROR
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()
    assert passing.read_text().strip() == "", passing.read_text()
    text = failing.read_text()
    assert text.startswith("=") and "FAILURES" in text and "DOUBLE-FAILED" in text, text
    assert "short test summary info" in text and "FAILED tests/test_core.py::test_double" in text, text
    assert "TRIPLE-PRINTED" not in text, text  # a passing test's captured output is not shown


AUDIT_OPENS = '''
import os
import sys

_log = os.environ.get("MUTCELL_TEST_OPEN_LOG")
if _log:
    def _hook(event, args, _log=_log):
        # Python's own "open" audit event: every file a process opens by name.
        if event == "open" and isinstance(args[0], str) and args[0].endswith(".py"):
            fd = os.open(_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(fd, f"{os.getpid()} {args[0]}\\n".encode())
            os.close(fd)
    sys.addaudithook(_hook)
'''


def test_a_killed_collected_child_reads_no_source_file_for_its_traceback(project, tmp_path):
    """--tb=native shows a line of every frame (pytest's run protocol,
    pluggy, mutmut's trampoline, the test, the code under test): the zygote
    has those files' lines cached before it forks, so a killed child formats
    its failure without opening any of them."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(AUDIT_OPENS)
    opens = tmp_path / "opens.log"
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
           "MUTCELL_TEST_OPEN_LOG": str(opens)}
    d = Driver(project, "collected", extra_env=env)
    log = tmp_path / "failing.log"
    try:
        assert d.recv()["type"] == "ready"
        assert opens.exists(), "the audit hook did not load in the zygote"
        exited = run_one(d, 1, killed_mutant(project, "double"), ["tests/test_core.py::test_double"],
                         output=str(log), timeout_s=30)
        assert exited["exit_code"] == 1
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()
    assert "DOUBLE-FAILED" in log.read_text() and "core.py" in log.read_text(), log.read_text()
    child = [line.split(" ", 1)[1] for line in opens.read_text().splitlines()
             if line.split(" ", 1)[0] == str(exited["pid"])]
    assert child == [], child


COV_OPTIONS = '''
[tool.pytest.ini_options]
addopts = "--cov=ex --cov-report=xml:cov-report.xml"
'''


@pytest.fixture(scope="module")
def cov_project(tmp_path_factory) -> Path:
    try:
        import pytest_cov  # noqa: F401  (pinned in scripts/requirements.txt)
    except ImportError:
        pytest.skip("pytest-cov is not installed in the venv (scripts/requirements.txt pins it)")
    root = make_project(tmp_path_factory.mktemp("cov") / "ex", COV_OPTIONS)
    # mutmut's own clean run wrote the report: that run keeps pytest-cov.
    assert (root / "mutants" / "cov-report.xml").exists()
    return root


def test_children_do_not_measure_coverage_nor_write_its_report(cov_project, strategy):
    artifacts = [cov_project / "mutants" / "cov-report.xml", cov_project / "mutants" / ".coverage"]
    for p in artifacts:
        p.unlink(missing_ok=True)
    d = Driver(cov_project, strategy)
    try:
        assert d.recv()["type"] == "ready"
        for rid, fn in enumerate(("double", "triple")):
            exited = run_one(d, rid, killed_mutant(cov_project, fn), [f"tests/test_core.py::test_{fn}"], timeout_s=30)
            assert exited["exit_code"] == 1, exited  # the tests' verdict
        # An unmutated function: the tests pass.
        exited = run_one(d, 9, "", ["tests/test_core.py::test_double"], timeout_s=30)
        assert exited["exit_code"] == 0, exited
        d.send({"type": "shutdown"})
        assert d.wait() == 0
    finally:
        d.close()
    assert [p for p in artifacts if p.exists()] == []

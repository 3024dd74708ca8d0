"""`mutcell mutmut` on a project whose mutants' pytest cannot find the
selected test (pytest exit 4, as with ids that change between pytest runs):
those mutants are `error` with reason `pytest-exit-4: ...`, retried, named in
the summary; the other mutants keep their verdicts. Both strategies."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from test_mutmut_e2e import ENV, MUTCELL, mutcell_mutmut

LIB = '''
def add(a, b):
    return a + b


def sub(a, b):
    return a - b
'''

TESTS = '''
from ids.core import add, sub


def test_add():
    assert add(1, 2) == 3


def test_sub(case):
    assert sub(3, 1) == 2
'''

# test_sub's id depends on the process: mutmut's stats run records
# test_sub[p<its pid>], a mutant's own pytest collects test_sub[p<another
# pid>] and cannot find the selected test (exit 4). The collected strategy's
# zygote collects yet another id, so it runs those mutants the pytest.main way.
CONFTEST = '''
import os


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", [1], ids=[f"p{os.getpid()}"])
'''


def make_project(root: Path) -> Path:
    (root / "src" / "ids").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "ids" / "__init__.py").write_text("")
    (root / "src" / "ids" / "core.py").write_text(LIB)
    (root / "tests" / "test_core.py").write_text(TESTS)
    (root / "tests" / "conftest.py").write_text(CONFTEST)
    (root / "pyproject.toml").write_text('[tool.mutmut]\nsource_paths = ["src/ids"]\n')
    return root


@pytest.mark.parametrize("strategy", ["pytest-main", "collected"])
def test_a_mutant_whose_pytest_cannot_find_its_test_is_an_error_not_a_kill(tmp_path, strategy):
    project = make_project(tmp_path / "ids")
    r = mutcell_mutmut(project, "--strategy", strategy, "--max-attempts", "2")
    out = r.stdout + r.stderr
    rep = subprocess.run([MUTCELL, "report", "--format", "json"], cwd=project, env=ENV, capture_output=True, text=True)
    assert rep.returncode == 0, rep.stderr
    results = {x["id"]: x for x in json.loads(rep.stdout)}
    sub = {k: v for k, v in results.items() if ".x_sub__" in k}
    add = {k: v for k, v in results.items() if ".x_add__" in k}
    assert sub and add, results
    for k, v in sub.items():
        assert v["verdict"] == "error", (k, v, out[-3000:])
        assert v["error"].startswith("pytest-exit-4: "), v
        assert v["attempts"] == 2, v  # retried as errors are
    assert all(v["verdict"] == "killed" for v in add.values()), add
    # Named in the summary, and the run says some mutants have no verdict.
    assert f"{len(sub)} mutant(s) ended error" in out and "pytest-exit-4" in out, out[-3000:]
    assert r.returncode == 3, out[-3000:]


COV_CONFTEST = '''
import os
import sys

import pytest


@pytest.fixture(autouse=True)
def record_tracing():
    # Which runs measured coverage: mutmut's preparation may, a mutant's may not.
    with open({seen!r}, "a") as f:
        f.write(f"{{os.environ.get('MUTANT_UNDER_TEST', '')}} {{sys.gettrace() is not None}}\\n")
    yield
'''


@pytest.mark.parametrize("strategy", ["pytest-main", "collected"])
def test_with_pytest_cov_in_addopts_mutants_get_the_tests_verdict_without_coverage(tmp_path, strategy):
    pytest.importorskip("pytest_cov", reason="pytest-cov is pinned in scripts/requirements.txt")
    project = tmp_path / "cov"
    (project / "src" / "ids").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "src" / "ids" / "__init__.py").write_text("")
    (project / "src" / "ids" / "core.py").write_text(LIB)
    (project / "tests" / "test_core.py").write_text(
        "from ids.core import add, sub\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\n"
        "def test_sub():\n    assert sub(3, 1) == 2\n")
    seen = tmp_path / "seen.txt"
    (project / "tests" / "conftest.py").write_text(COV_CONFTEST.format(seen=str(seen)))
    (project / "pyproject.toml").write_text(
        '[tool.mutmut]\nsource_paths = ["src/ids"]\n\n[tool.pytest.ini_options]\n'
        'addopts = "--cov=ids --cov-report=xml:cov-report.xml"\n')
    r = mutcell_mutmut(project, "--strategy", strategy)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    rep = subprocess.run([MUTCELL, "report", "--format", "json"], cwd=project, env=ENV, capture_output=True, text=True)
    results = json.loads(rep.stdout)
    assert results and all(x["verdict"] == "killed" for x in results), results
    # "NAME TRACED" per test run; the clean run's NAME is empty.
    runs = [line.rpartition(" ")[::2] for line in seen.read_text().splitlines()]
    mutant_runs = [traced for name, traced in runs if "__mutmut_" in name]
    assert len(mutant_runs) >= len(results), runs
    assert set(mutant_runs) == {"False"}, runs
    # mutmut's own preparation keeps pytest-cov: it measured there.
    assert "True" in {traced for name, traced in runs if "__mutmut_" not in name}, runs

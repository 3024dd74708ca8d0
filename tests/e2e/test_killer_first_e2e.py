"""Killer-first test order (executor/run/test_order.h): a test that killed a
mutant of a function runs first for that function's later mutants, so a
killed mutant stops there (-x); the set of tests and every verdict stay as
with the plain fastest-first order."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from test_mutmut_e2e import ENV, MUTCELL, exit_codes

FILES = {
    "pyproject.toml": """\
        [project]
        name = "ordered"
        version = "0.1.0"

        [tool.mutmut]
        source_paths = ["src/ordered"]
        """,
    "src/ordered/__init__.py": "",
    "src/ordered/core.py": """\
        def f(x):
            return x + 1


        def h(x):
            return x * 3
        """,
    # Every test writes "<mutant> <test>" into $ORDER_LOG when it runs.
    "tests/conftest.py": """\
        import os

        import pytest


        @pytest.fixture(autouse=True)
        def _log_order(request):
            path = os.environ.get("ORDER_LOG")
            if path:
                with open(path, "a") as f:
                    f.write(os.environ.get("MUTANT_UNDER_TEST", "") + " " + request.node.name + "\\n")
            yield
        """,
    "tests/test_core.py": """\
        import time

        from ordered.core import f, h


        def test_weak():  # fastest: covers both functions, kills nothing
            assert isinstance(f(1), (int, float)) and isinstance(h(1), (int, float))


        def test_f_strict():  # slower: kills every mutant of f
            time.sleep(0.2)
            assert f(1) == 2


        def test_h_strict():  # slower: kills every mutant of h
            time.sleep(0.2)
            assert h(2) == 6
        """,
}


def make_project(dest: Path) -> Path:
    for name, text in FILES.items():
        p = dest / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return dest


def run(project: Path, log: Path, *args: str) -> dict[str, list[str]]:
    env = dict(ENV, ORDER_LOG=str(log))
    # No strategy check: its sample runs mutants twice more, into the same log.
    r = subprocess.run([MUTCELL, "mutmut", "--max-children", "1", "--strategy-check", "0", "--state-dir",
                        str(project / ".mutcell"), *args],
                       cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    ran: dict[str, list[str]] = {}
    for line in log.read_text().splitlines():
        mutant, _, test = line.partition(" ")
        if "__mutmut_" in mutant:
            ran.setdefault(mutant, []).append(test)
    return ran


@pytest.mark.parametrize("strategy", ["collected", "pytest-main"])
def test_the_killer_of_a_function_runs_first_for_its_later_mutants(tmp_path, strategy):
    first = make_project(tmp_path / "killer-first")
    ran = run(first, tmp_path / "killer-first.log", "--strategy", strategy)
    codes = exit_codes(first)
    mutants = [m for m in codes if "__mutmut_" in m]
    assert mutants and all(codes[m] == 1 for m in mutants), codes  # every mutant is killed
    for fn, killer in (("x_f__", "test_f_strict"), ("x_h__", "test_h_strict")):
        of_fn = sorted(m for m in ran if fn in m)
        assert len(of_fn) >= 2, ran
        # The first one (fastest first) ran the weak test before its killer;
        # every later one started with the killer and stopped there.
        started_with_killer = [m for m in of_fn if ran[m] == [killer]]
        assert len(started_with_killer) == len(of_fn) - 1, ran
        assert len([m for m in of_fn if ran[m] == ["test_weak", killer]]) == 1, ran
    # No report file is left beside the logs.
    assert not list((first / ".mutcell").rglob("*.first-failure"))

    # The plain order runs the weak test first for every mutant, with the same verdicts.
    plain = make_project(tmp_path / "fastest")
    ran_plain = run(plain, tmp_path / "fastest.log", "--strategy", strategy, "--test-order", "fastest")
    assert all(tests[0] == "test_weak" for tests in ran_plain.values()), ran_plain
    assert exit_codes(plain) == codes

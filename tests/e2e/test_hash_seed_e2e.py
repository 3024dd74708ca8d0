"""`mutcell mutmut` on a project whose test ids depend on Python's hash seed
(parametrized over a set, as isodate's tests are): mutmut's preparation
records the ids its process collected, and a zygote started with another
random seed collects other ids, cannot find the recorded tests and falls back
to a `pytest.main` that exits 4. mutcell gives the preparation and every
zygote one seed (PYTHONHASHSEED=0 unless the user set one), so every mutant
gets the verdict of its tests. Both strategies."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from test_mutmut_e2e import ENV, MUTCELL, mutcell_mutmut

LIB = '''
def scale(values, k):
    return tuple(v * k for v in values)
'''

# The ids are "<name>-values<index>": the name is the string, the tuple gets
# the index of its parameter set, and the set's order follows the strings'
# hashes, so which name gets which index changes with the seed.
TESTS = '''
import pytest

from seeded.core import scale

CASES = {("alpha", (1, 2)), ("beta", (3, 4)), ("gamma", (5, 6)), ("delta", (7, 8)),
         ("epsilon", (9, 10)), ("zeta", (11, 12)), ("eta", (13, 14)), ("theta", (15, 16))}


@pytest.mark.parametrize("name,values", CASES)
def test_scale(name, values):
    assert scale(values, 3) == tuple(3 * v for v in values)
    assert scale(values, 1) == values
'''


def make_project(root: Path) -> Path:
    (root / "src" / "seeded").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "seeded" / "__init__.py").write_text("")
    (root / "src" / "seeded" / "core.py").write_text(LIB)
    (root / "tests" / "test_core.py").write_text(TESTS)
    (root / "pyproject.toml").write_text('[tool.mutmut]\nsource_paths = ["src/seeded"]\n')
    return root


def assert_every_mutant_killed(project: Path, strategy: str) -> None:
    """Every mutant of scale() is caught by its tests; none is an error of a
    test id the zygote could not find."""
    r = mutcell_mutmut(project, "--strategy", strategy, "--strategy-check", "0", "--max-attempts", "1")
    out = r.stdout + r.stderr
    rep = subprocess.run([MUTCELL, "report", "--format", "json"], cwd=project, env=ENV, capture_output=True, text=True)
    assert rep.returncode == 0, rep.stderr
    results = {x["id"]: x for x in json.loads(rep.stdout)}
    assert results, out[-3000:]
    wrong = {k: (v["verdict"], v.get("error")) for k, v in results.items() if v["verdict"] != "killed"}
    assert not wrong, (wrong, out[-3000:])
    assert r.returncode == 0, out[-3000:]


@pytest.mark.parametrize("strategy", ["pytest-main", "collected"])
def test_ids_that_follow_the_hash_seed_are_found_by_every_zygote(tmp_path, strategy):
    ENV.pop("PYTHONHASHSEED", None)  # the user set none: each process would draw its own
    if os.environ.get("MUTCELL_TEST_SEED"):  # to see the test fail: a random seed per process
        ENV["PYTHONHASHSEED"] = os.environ["MUTCELL_TEST_SEED"]
    project = make_project(tmp_path / "seeded")
    assert_every_mutant_killed(project, strategy)


# Tuples holding None: before Python 3.12, hash(None) is None's address, so
# the set's order (and the ids' indices) follows where the interpreter was
# loaded, which address-space randomization changes in every process,
# whatever PYTHONHASHSEED says (isodate's tests/test_date.py: 1 run in about
# 8 had every mutant of parse_duration end pytest-exit-4).
TESTS_NONE = '''
import pytest

from seeded.core import scale

CASES = {(None, k, (k, k + 1)) for k in range(12)}


@pytest.mark.parametrize("marker,k,values", CASES)
def test_scale(marker, k, values):
    assert marker is None
    assert scale(values, 3) == (3 * k, 3 * k + 3)
    assert scale(values, 1) == values
'''


@pytest.mark.parametrize("strategy", ["pytest-main", "collected"])
def test_ids_that_follow_the_address_of_none_are_found_by_every_zygote(tmp_path, strategy):
    """mutcell starts mutmut's preparation and its zygotes without address
    randomization (as mutmut's own children share their parent's layout), so
    None has one address, and one hash, in all of them. (On Python 3.12 and
    later hash(None) is a constant: there this test cannot fail.)"""
    project = make_project(tmp_path / "seeded")
    (project / "tests" / "test_core.py").write_text(TESTS_NONE)
    assert_every_mutant_killed(project, strategy)

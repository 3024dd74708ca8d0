"""`mutcell report` in the ecosystem's formats, on a real `mutcell mutmut` run of
examples/runaway (mutmut 3.8.1 from PyPI): the mutation-testing JSON validates
against the JSON Schema of the npm package mutation-testing-report-schema (as
installed by ./dev into the build tree) and places each mutant where mutmut
mutated it; the markdown summary has the score, the counts, the survivors with
file:line and the oom mutant with its peak memory. About 35 s."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MUTCELL = os.environ.get("MUTCELL_BINARY", str(ROOT / "build" / "mutcell"))
SCHEMA = os.environ.get(
    "MUTCELL_REPORT_SCHEMA",
    str(Path(MUTCELL).parent / "npm" / "node_modules" / "mutation-testing-report-schema" / "dist" / "src"
        / "mutation-testing-report-schema.json"))
VENV_BIN = str(Path(sys.executable).parent)
ENV = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
RUNAWAY = "blocks.core.x_read_blocks__mutmut_8"
CORE = "src/blocks/core.py"


@pytest.fixture(scope="module")
def runaway(tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("report") / "runaway"
    shutil.copytree(ROOT / "examples" / "runaway", project, ignore=shutil.ignore_patterns("mutants", ".mutcell"))
    r = subprocess.run([MUTCELL, "mutmut", "--max-children", "2"], cwd=project, env=ENV, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return project


def report(project: Path, *args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([MUTCELL, "report", *args], cwd=project, env=ENV, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    return r


def verdicts(project: Path) -> dict[str, str]:
    return {row["id"]: row["verdict"] for row in json.loads(report(project, "--format", "json").stdout)}


def test_mutation_testing_json_validates_against_the_schema_and_places_each_mutant(runaway):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema missing: ./dev build installs it")
    if not Path(SCHEMA).is_file():
        pytest.skip(f"{SCHEMA} is missing: ./dev build installs mutation-testing-report-schema with npm")
    schema = json.loads(Path(SCHEMA).read_text())
    doc = json.loads(report(runaway, "--format", "mutation-testing-json").stdout)
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])

    assert list(doc["files"]) == [CORE]
    core = doc["files"][CORE]
    assert core["language"] == "python"
    assert core["source"] == (runaway / CORE).read_text()
    by_id = {m["id"]: m for m in core["mutants"]}
    expected = verdicts(runaway)
    assert set(by_id) == set(expected)
    status = {"killed": "Killed", "survived": "Survived", "timeout": "Timeout", "oom": "Timeout",
              "crashed": "RuntimeError", "no_tests": "NoCoverage", "skipped": "Ignored", "error": "RuntimeError"}
    for mid, m in by_id.items():
        assert m["status"] == status[expected[mid]], mid
        assert m["mutcell"]["verdict"] == expected[mid]

    # The runaway: `remaining - BLOCK` became `remaining + BLOCK` on line 14.
    lines = core["source"].split("\n")
    r = by_id[RUNAWAY]
    start, end = r["location"]["start"], r["location"]["end"]
    assert start["line"] == end["line"] == 14
    assert lines[13][start["column"] - 1:end["column"] - 1] == "-"
    assert r["replacement"] == "+"
    assert r["mutatorName"] == "OperatorMutation"
    assert r["mutcell"]["peakMemoryBytes"] >= r["mutcell"]["cellLimitBytes"] == 256 << 20
    assert "+        remaining = remaining + BLOCK" in r["mutcell"]["diff"]
    # Every mutant's original text is where its location says.
    for mid, m in by_id.items():
        s, e = m["location"]["start"], m["location"]["end"]
        assert s["line"] == e["line"], mid
        replaced = lines[s["line"] - 1][s["column"] - 1:e["column"] - 1]
        mutated = lines[s["line"] - 1][:s["column"] - 1] + m["replacement"] + lines[s["line"] - 1][e["column"] - 1:]
        assert mutated in m["mutcell"]["diff"], (mid, replaced, mutated)


def test_markdown_summary_of_the_runaway_run(runaway):
    md = report(runaway, "--format", "markdown").stdout
    expected = verdicts(runaway)
    counts = {v: list(expected.values()).count(v) for v in set(expected.values())}
    caught = sum(counts.get(v, 0) for v in ("killed", "timeout", "oom", "crashed"))
    judged = caught + counts.get("survived", 0)
    assert f"## mutcell: mutation score {100 * caught / judged:.1f}%" in md, md
    for verdict, n in counts.items():
        assert f"| {verdict} | {n} |" in md, md
    assert f"| **total** | **{len(expected)}** |" in md
    # Survivors with file:line and their change, e.g. clamp's `<` -> `<=` on line 27.
    survivors = [m for m, v in expected.items() if v == "survived"]
    assert survivors
    for mid in survivors:
        row = re.search(r"^\| <code>" + re.escape(mid) + r"</code> \| <code>src/blocks/core\.py:(\d+)</code> \| (.*) \|$",
                        md, re.M)
        assert row, (mid, md)
    assert "<code>src/blocks/core.py:27</code> | <code>&lt;</code> &rarr; <code>&lt;=</code>" in md, md
    # The oom mutant with its peak memory at the 256 MiB limit.
    assert re.search(r"^\| <code>" + re.escape(RUNAWAY) + r"</code> \| oom \| <code>src/blocks/core\.py:14</code> \| "
                     r"25\d(\.\d+)? MiB \| 256 MiB \|", md, re.M), md


def test_locations_are_cached_while_the_files_are_unchanged(runaway):
    report(runaway, "--format", "markdown")
    cache_path = runaway / ".mutcell" / "locations-cache.json"
    cache = json.loads(cache_path.read_text())
    assert cache["files"][CORE]["mutants"][RUNAWAY]["replacement"] == "+"
    # A cached entry is used as long as the source and its mutants/ copy are unchanged...
    cache["files"][CORE]["mutants"][RUNAWAY]["replacement"] = "CACHED"
    cache_path.write_text(json.dumps(cache))
    doc = json.loads(report(runaway, "--format", "mutation-testing-json").stdout)
    assert {m["id"]: m for m in doc["files"][CORE]["mutants"]}[RUNAWAY]["replacement"] == "CACHED"
    # ...and recomputed when the source changed.
    source = runaway / CORE
    original = source.read_text()
    try:
        source.write_text(original + "\n")
        doc = json.loads(report(runaway, "--format", "mutation-testing-json").stdout)
        assert {m["id"]: m for m in doc["files"][CORE]["mutants"]}[RUNAWAY]["replacement"] == "+"
    finally:
        source.write_text(original)

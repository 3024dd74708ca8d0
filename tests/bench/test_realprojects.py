"""Offline smoke test of the benchmark's real-project code (bench/realprojects.py):
a fixture sdist in a temporary cache is found, checked against its pinned
SHA-256, unpacked and given its [tool.mutmut] table; a wrong hash, a missing
sdist and a member outside the top directory are refused with the file named.
No network: fetch() is not called."""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import realprojects  # noqa: E402


def make_sdist(cache: Path, name: str, version: str, files: dict[str, str]) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{name}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(rel if rel.startswith("../") else f"{name}-{version}/{rel}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def spec_for(path: Path, **over) -> dict:
    spec = {"name": "demo", "version": "1.0", "sha256": realprojects.sha256_of(str(path)),
            "mutmut": {"source_paths": ["demo"], "pytest_add_cli_args_test_selection": ["tests"]}, "env": {}}
    spec.update(over)
    return spec


def test_a_cached_sdist_is_unpacked_and_configured(tmp_path):
    sdist = make_sdist(tmp_path / "cache", "demo", "1.0", {
        "pyproject.toml": "[project]\nname = \"demo\"\n", "demo/__init__.py": "X = 1\n",
        "tests/test_demo.py": "def test_x():\n    assert True\n"})
    spec = spec_for(sdist)
    found = realprojects.find_sdist(spec, str(tmp_path / "cache"))
    dest = Path(realprojects.unpack(spec, found, str(tmp_path / "work" / "demo")))
    assert (dest / "demo" / "__init__.py").read_text() == "X = 1\n"
    assert (dest / "tests" / "test_demo.py").exists()
    text = (dest / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "demo"\n')
    assert '[tool.mutmut]\nsource_paths = ["demo"]\npytest_add_cli_args_test_selection = ["tests"]\n' in text
    import tomllib
    assert tomllib.loads(text)["tool"]["mutmut"]["source_paths"] == ["demo"]


def test_a_sdist_without_pyproject_gets_one(tmp_path):
    sdist = make_sdist(tmp_path, "demo", "1.0", {"demo/__init__.py": "", "test_demo.py": ""})
    dest = Path(realprojects.unpack(spec_for(sdist), str(sdist), str(tmp_path / "d")))
    assert (dest / "pyproject.toml").read_text().startswith("\n[tool.mutmut]\n")


def test_a_wrong_hash_or_a_missing_sdist_is_refused(tmp_path):
    sdist = make_sdist(tmp_path, "demo", "1.0", {"demo/__init__.py": ""})
    with pytest.raises(realprojects.ProjectError, match="is not the pinned"):
        realprojects.find_sdist(spec_for(sdist, sha256="0" * 64), str(tmp_path))
    with pytest.raises(realprojects.ProjectError, match="not in the cache"):
        realprojects.find_sdist(spec_for(sdist, version="2.0"), str(tmp_path))


def test_a_member_outside_the_top_directory_is_refused(tmp_path):
    sdist = make_sdist(tmp_path, "demo", "1.0", {"demo/__init__.py": "", "../evil.py": "x"})
    with pytest.raises(realprojects.ProjectError, match="outside"):
        realprojects.unpack(spec_for(sdist), str(sdist), str(tmp_path / "d"))
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "d").exists()


def test_an_existing_mutmut_table_is_refused(tmp_path):
    sdist = make_sdist(tmp_path, "demo", "1.0", {"pyproject.toml": "[tool.mutmut]\nx = 1\n"})
    with pytest.raises(realprojects.ProjectError, match="already has"):
        realprojects.unpack(spec_for(sdist), str(sdist), str(tmp_path / "d"))


def test_the_pinned_projects_are_complete():
    for spec in realprojects.PROJECTS:
        assert len(spec["sha256"]) == 64 and spec["mutmut"]["source_paths"], spec


def test_the_real_project_table_shows_the_preparations_phases_from_prepare_json(tmp_path):
    import bench  # bench/bench.py: its helpers, no benchmark runs on import
    state = tmp_path / ".mutcell"
    state.mkdir()
    assert bench.prepare_phases(str(state)) == ""  # mutmut's own rows: no prepare.json
    (state / "prepare.json").write_text('{"phases_s": {"import": 1.04, "generate": 3.46, "type_check": 0.0, '
                                        '"stats": 1.49, "clean_run": 0.73, "forced_fail": 0.64}}')
    assert bench.prepare_phases(str(state)) == "import 1.0, gen 3.5, stats 1.5, clean 0.7, ff 0.6"
    (state / "prepare.json").write_text("not json")
    assert bench.prepare_phases(str(state)) == ""


def test_attempts_by_verdict_compares_mutmut_durations_with_the_journal_on_mutants_both_agree_on(tmp_path):
    import json

    import bench
    meta = tmp_path / "mutants" / "src" / "m.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 1, "m.x_f__mutmut_3": 0,
                                                     "m.x_f__mutmut_4": 0},
                                "durations_by_key": {"m.x_f__mutmut_1": 0.09, "m.x_f__mutmut_2": 0.11,
                                                     "m.x_f__mutmut_3": 0.12, "m.x_f__mutmut_4": "bad"}}))
    durations = bench.read_meta_durations(str(tmp_path))
    assert durations == {"m.x_f__mutmut_1": 0.09, "m.x_f__mutmut_2": 0.11, "m.x_f__mutmut_3": 0.12}
    ref = {"codes": bench.read_meta_codes(str(tmp_path)), "durations": durations}
    journal = {"m.x_f__mutmut_1": {"verdict": "killed", "duration_s": 0.02},
               "m.x_f__mutmut_2": {"verdict": "survived", "duration_s": 0.05},  # disagrees: left out
               "m.x_f__mutmut_3": {"verdict": "survived", "duration_s": 0.04}}
    text = bench.Bench.attempts_by_verdict(ref, {"journal": journal})
    rows = [line for line in text.splitlines() if line.startswith("| killed") or line.startswith("| survived")]
    assert rows == ["| killed | 1 | 90.00 | 20.00 | 4.50× | 0.09 | 0.02 | 4.50× |",
                    "| survived | 1 | 120.00 | 40.00 | 3.00× | 0.12 | 0.04 | 3.00× |"]
    assert bench.Bench.attempts_by_verdict({"codes": {}, "durations": {}}, {"journal": {}}) == ""

"""One truth for a mutmut project (issue #15), with real mutmut 3.8.1 on copies
of the bundled examples: after a code edit, a test edit, a raised cell limit
and on a named mutant, `mutcell mutmut` re-tests exactly what `mutmut run`
would re-test (plus what a raised limit decided) and `.meta` holds the new
verdicts; after an interruption, a no-op rerun and an incremental edit the
report covers every mutant with the right verdict and `--require-complete`
fails exactly when it should."""

from __future__ import annotations

import glob
import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

from e2e_util import ENV, MUTCELL, copy_example
RUNAWAY = "blocks.core.x_read_blocks__mutmut_8"


def meta(project: Path) -> dict[str, tuple[int | None, float | None]]:
    """Every mutant's stored (exit code, duration) in mutants/**/*.meta."""
    out = {}
    for path in glob.glob(str(project / "mutants" / "**" / "*.meta"), recursive=True):
        with open(path) as f:
            data = json.load(f)
        for k, v in data["exit_code_by_key"].items():
            out[k] = (v, data["durations_by_key"].get(k))
    return out


def mutcell_mutmut(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MUTCELL, "mutmut", "--max-children", "2", *args], cwd=project, env=ENV,
                          capture_output=True, text=True, timeout=900)


def mutmut_retests(project: Path, dest: Path) -> set[str]:
    """What `mutmut run` re-tests in a copy of `project` as it is now: the
    mutants whose stored result (code or duration) it rewrote."""
    shutil.copytree(project, dest, symlinks=True)
    before = meta(dest)
    r = subprocess.run(["mutmut", "run", "--max-children", "2"], cwd=dest, env=ENV, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    after = meta(dest)
    return {k for k, v in after.items() if before.get(k) != v}


def report(project: Path, *args: str) -> tuple[int, list[dict], str]:
    r = subprocess.run([MUTCELL, "report", "--format", "json", *args], cwd=project, capture_output=True, text=True)
    return r.returncode, json.loads(r.stdout), r.stderr


def ran_this_time(project: Path) -> set[str]:
    _, rows, _ = report(project)
    return {row["id"] for row in rows if row["source"] == "this run"}


def assert_report_is_whole_project(project: Path) -> list[dict]:
    """The report has one row per mutant of mutants/**/*.meta, each with the
    verdict .meta holds (oom stored as 36)."""
    code, rows, err = report(project, "--require-complete")
    assert code == 0, err
    stored = meta(project)
    assert {r["id"] for r in rows} == set(stored), err
    from mutmut.stats import status_by_exit_code  # the installed mutmut's own table
    for r in rows:
        want = status_by_exit_code[stored[r["id"]][0]]
        got = {"oom": "timeout", "no_tests": "no tests"}.get(r["verdict"], r["verdict"])
        assert got == want, (r["id"], r["verdict"], want)
    return rows


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def finished(tmp_path: Path, example: str, *args: str) -> Path:
    project = copy_example(example, tmp_path / example)
    r = mutcell_mutmut(project, *args)
    assert r.returncode == 0, r.stderr[-3000:]
    return project


def test_a_code_edit_retests_exactly_what_mutmut_retests(tmp_path):
    project = finished(tmp_path, "clean")
    edit(project / "src/textkit/numbers.py", "    return sum(values) / len(values)",
         "    total = sum(values)\n    return total / len(values)")
    theirs = mutmut_retests(project, tmp_path / "mutmut-copy")
    assert theirs and all(k.startswith("textkit.numbers.x_mean__") for k in theirs), theirs
    r = mutcell_mutmut(project)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "code or tests changed" in r.stderr
    assert ran_this_time(project) == theirs
    stored = meta(project)
    assert all(stored[k][0] is not None for k in theirs)
    assert {k: stored[k][0] for k in theirs} == {k: v[0] for k, v in meta(tmp_path / "mutmut-copy").items() if k in theirs}
    assert_report_is_whole_project(project)


def test_a_test_edit_retests_exactly_what_mutmut_retests(tmp_path):
    project = finished(tmp_path, "clean")
    with open(project / "tests/test_numbers.py", "a") as f:
        f.write("\n\ndef test_mean_of_two():\n    assert mean([1, 3]) == 2\n")
    theirs = mutmut_retests(project, tmp_path / "mutmut-copy")
    r = mutcell_mutmut(project)
    assert r.returncode == 0, r.stderr[-3000:]
    assert ran_this_time(project) == theirs
    rows = assert_report_is_whole_project(project)
    assert {row["source"] for row in rows if row["id"] not in theirs} == {"earlier mutcell run"}


def test_a_raised_cell_memory_retests_what_the_small_limit_decided(tmp_path):
    # 128M holds the clean run (a cell that cannot is refused, exit 2), and
    # the runaway's oom there is what the smaller limit decided.
    project = copy_example("runaway", tmp_path / "runaway")
    r = mutcell_mutmut(project, "--cell-memory", "128M")
    assert r.returncode == 0, r.stderr[-3000:]
    _, rows, err = report(project)
    oom = {row["id"] for row in rows if row["verdict"] == "oom"}
    assert RUNAWAY in oom
    # What mutmut would re-test (nothing: every mutant has a stored result),
    # plus what the small limit decided.
    theirs = mutmut_retests(project, tmp_path / "mutmut-copy")
    r = mutcell_mutmut(project, "--cell-memory", "256M")
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"{len(oom - theirs)} oom, cell memory raised" in r.stderr
    assert ran_this_time(project) == theirs | oom
    rows = {row["id"]: row["verdict"] for row in assert_report_is_whole_project(project)}
    assert rows[RUNAWAY] == "oom"
    assert sum(v == "oom" for v in rows.values()) == 1
    assert sum(v == "survived" for v in rows.values()) == 3
    # A lower limit than the one that judged re-runs nothing.
    r = mutcell_mutmut(project, "--cell-memory", "192M")
    assert r.returncode == 0 and ran_this_time(project) == set(), r.stderr[-2000:]


def test_a_named_mutant_is_tested_again_and_only_it(tmp_path):
    project = finished(tmp_path, "runaway", "--cell-memory", "256M")
    name = "blocks.core.x_clamp__mutmut_1"
    before = meta(project)
    r = mutcell_mutmut(project, "--cell-memory", "256M", name)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "1 named" in r.stderr
    assert ran_this_time(project) == {name}
    after = meta(project)
    assert after[name][1] != before[name][1]  # a new duration: it really ran
    assert {k: v for k, v in after.items() if k != name} == {k: v for k, v in before.items() if k != name}
    assert_report_is_whole_project(project)
    # A glob, as in mutmut.
    r = mutcell_mutmut(project, "--cell-memory", "256M", "blocks.core.x_clamp__mutmut_*")
    assert r.returncode == 0, r.stderr[-3000:]
    assert ran_this_time(project) == {k for k in after if k.startswith("blocks.core.x_clamp__mutmut_")}


def test_interrupted_resumed_noop_and_incremental_reports_cover_every_mutant(tmp_path):
    project = copy_example("clean", tmp_path / "clean")
    journal = project / ".mutcell" / "journal.jsonl"
    proc = subprocess.Popen([MUTCELL, "mutmut", "--max-children", "2"], cwd=project, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_text().count('"type":"result"') >= 30:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]

    # Interrupted: the report has what was recorded, and says it is not all.
    code, rows, err = report(project, "--require-complete")
    assert code == 4, err
    total = len(meta(project))
    assert 30 <= len(rows) < total
    assert f"of {total} mutants have a final verdict" in err

    # Resumed: every mutant, complete.
    r = mutcell_mutmut(project)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = assert_report_is_whole_project(project)
    assert {row["source"] for row in rows} == {"this run", "earlier mutcell run"}

    # No-op rerun: nothing runs, the report still has every mutant.
    r = mutcell_mutmut(project)
    assert r.returncode == 0 and f"reusing {total} verdicts; to run 0" in r.stderr, r.stderr[-2000:]
    rows = assert_report_is_whole_project(project)
    assert {row["source"] for row in rows} == {"earlier mutcell run"}

    # Incremental edit: the changed function's mutants run, the report has all.
    edit(project / "src/textkit/numbers.py", "    return sum(values) / len(values)",
         "    total = sum(values)\n    return total / len(values)")
    r = mutcell_mutmut(project)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = assert_report_is_whole_project(project)
    fresh = {row["id"] for row in rows if row["source"] == "this run"}
    assert fresh and all(k.startswith("textkit.numbers.x_mean__") for k in fresh)
    assert len(rows) == len(meta(project))


def test_a_retest_never_overwrites_another_attempts_log(tmp_path):
    project = finished(tmp_path, "runaway", "--cell-memory", "256M")
    logs = project / ".mutcell" / "logs"
    first = {p.name: p.read_bytes() for p in logs.glob("cell-*.log")}
    assert first
    r = mutcell_mutmut(project, "--cell-memory", "256M", "blocks.core.x_clamp__mutmut_*")
    assert r.returncode == 0, r.stderr[-3000:]
    second = {p.name: p.read_bytes() for p in logs.glob("cell-*.log")}
    assert all(second[name] == data for name, data in first.items())  # kept as they were
    assert len(second) > len(first)


def test_report_joins_a_plain_mutmut_run_made_after_mutcells_last_run(tmp_path):
    project = finished(tmp_path, "clean")
    _, rows, _ = report(project)
    earlier = {row["id"] for row in rows}
    journal = project / ".mutcell" / "journal.jsonl"
    journal_bytes = journal.read_bytes()

    # A new function with its test, tested by plain mutmut only.
    with open(project / "src/textkit/numbers.py", "a") as f:
        f.write("\n\ndef sign(x):\n    return 1 if x > 0 else -1\n")
    with open(project / "tests/test_numbers.py", "a") as f:
        f.write("\n\ndef test_sign():\n    from textkit.numbers import sign\n"
                "    assert sign(5) == 1\n    assert sign(-5) == -1\n")
    r = subprocess.run(["mutmut", "run", "--max-children", "2"], cwd=project, env=ENV, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    new = set(meta(project)) - earlier
    assert new and all(k.startswith("textkit.numbers.x_sign__") for k in new), new
    rows = assert_report_is_whole_project(project)  # every mutant, .meta's verdicts, --require-complete passes
    by_id = {row["id"]: row for row in rows}
    assert {by_id[k]["source"] for k in new} == {"mutmut"}
    # mutcell's verdicts that mutmut's .meta still holds stay mutcell's.
    assert {row["source"] for row in rows if row["id"] in earlier} <= {"this run", "earlier mutcell run"}
    survivors = {k for k in new if by_id[k]["verdict"] == "survived"}
    assert survivors, "sign's boundary mutants survive its test"

    # A stronger test, and plain `mutmut run` of the survivors: the report
    # shows mutmut's new verdicts.
    edit(project / "tests/test_numbers.py", "    assert sign(-5) == -1\n",
         "    assert sign(-5) == -1\n    assert sign(0) == -1\n")
    r = subprocess.run(["mutmut", "run", *sorted(survivors)], cwd=project, env=ENV, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    rows = assert_report_is_whole_project(project)
    by_id = {row["id"]: row for row in rows}
    flipped = {k for k in survivors if by_id[k]["verdict"] == "killed"}
    assert flipped and {by_id[k]["source"] for k in flipped} == {"mutmut"}
    still = sum(row["verdict"] == "survived" for row in rows)

    # Every format and gate sees the same join.
    total = len(meta(project))
    code, _, err = report(project, "--max-survived", str(still - 1))
    assert code == 6 and f"{still} survived" in err, err
    code, _, err = report(project, "--max-survived", str(still))
    assert code == 0, err
    md = subprocess.run([MUTCELL, "report", "--format", "markdown"], cwd=project, capture_output=True, text=True)
    assert md.returncode == 0 and f"| **total** | **{total}** |" in md.stdout, md.stdout + md.stderr
    mt = subprocess.run([MUTCELL, "report", "--format", "mutation-testing-json", "--html", str(tmp_path / "r.html")],
                        cwd=project, capture_output=True, text=True)
    assert mt.returncode == 0, mt.stderr
    assert sum(len(f["mutants"]) for f in json.loads(mt.stdout)["files"].values()) == total
    assert f"({total} mutants)" in mt.stderr
    table = subprocess.run([MUTCELL, "report"], cwd=project, capture_output=True, text=True)
    assert table.returncode == 0 and f"{total} mutants" in table.stdout, table.stdout
    assert journal.read_bytes() == journal_bytes, "report wrote the journal"

    # The next mutcell run adopts the same verdicts (nothing of sign runs again).
    r = mutcell_mutmut(project)
    assert r.returncode == 0, r.stderr[-3000:]
    assert ran_this_time(project) == set()
    assert {row["id"]: row["verdict"] for row in assert_report_is_whole_project(project)} == \
        {k: v["verdict"] for k, v in by_id.items()}

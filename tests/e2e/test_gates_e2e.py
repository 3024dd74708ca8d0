"""Gates a CI job can trust (issue #15), on the real binary with `mutcell run`
plans of real processes: --require-complete (also with `error` results),
--fail-under and --max-survived on `report` and as the final check of `run`,
each with its documented exit code; the mutation score as the README defines
it; one definition of complete shared with `merge`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTCELL = os.environ.get("MUTCELL_BINARY", str(ROOT / "build" / "mutcell"))

EXIT_INCOMPLETE, EXIT_SCORE, EXIT_SURVIVED = 4, 5, 6


def plan(tmp_path: Path, lines: list[dict]) -> Path:
    p = tmp_path / "plan.jsonl"
    p.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return p


def killed(i: int) -> dict:
    return {"id": f"killed_{i}", "argv": ["sh", "-c", "exit 1"]}


def survived(i: int) -> dict:
    return {"id": f"survived_{i}", "argv": ["true"]}


def run(tmp_path: Path, plan_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MUTCELL, "run", "--plan", str(plan_path), "--state-dir", str(tmp_path / "state"),
                           "--jobs", "2", "--max-attempts", "1", *args], capture_output=True, text=True, timeout=300)


def report(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MUTCELL, "report", "--state-dir", str(tmp_path / "state"), *args], capture_output=True,
                          text=True, timeout=60)


def test_require_complete_fails_when_a_mutant_ended_as_error(tmp_path):
    p = plan(tmp_path, [killed(1), survived(1), {"id": "cannot_start", "argv": [str(tmp_path / "no-such-program")]}])
    r = run(tmp_path, p)
    assert r.returncode == 3, r.stderr  # some mutants ended as error
    rows = {row["id"]: row["verdict"] for row in json.loads(report(tmp_path, "--format", "json").stdout)}
    assert rows["cannot_start"] == "error"
    r = report(tmp_path, "--require-complete")
    assert r.returncode == EXIT_INCOMPLETE, r.stderr
    assert "incomplete: 2 of 3 mutants have a final verdict" in r.stderr
    # Without the gate the report itself succeeds.
    assert report(tmp_path).returncode == 0


def test_require_complete_passes_when_every_mutant_has_a_final_verdict(tmp_path):
    r = run(tmp_path, plan(tmp_path, [killed(1), survived(1)]))
    assert r.returncode == 0, r.stderr
    r = report(tmp_path, "--require-complete")
    assert r.returncode == 0, r.stderr
    assert "complete: 2 of 2 mutants have a final verdict" in r.stderr


def test_fail_under_and_max_survived_on_report(tmp_path):
    # 3 caught, 1 survived, 1 no verdict counted in the score: 75%.
    r = run(tmp_path, plan(tmp_path, [killed(1), killed(2), killed(3), survived(1)]))
    assert r.returncode == 0, r.stderr
    assert "mutation score 75.0% (3 caught of 4; 1 survived" in r.stderr
    assert report(tmp_path, "--fail-under", "75").returncode == 0
    r = report(tmp_path, "--fail-under", "80")
    assert r.returncode == EXIT_SCORE, r.stderr
    assert "--fail-under 80%" in r.stderr and "mutation score 75.0%" in r.stderr
    assert report(tmp_path, "--max-survived", "1").returncode == 0
    r = report(tmp_path, "--max-survived", "0")
    assert r.returncode == EXIT_SURVIVED, r.stderr
    assert "1 mutants survived" in r.stderr
    # Order: the score gate before the survivors gate.
    assert report(tmp_path, "--fail-under", "80", "--max-survived", "0").returncode == EXIT_SCORE


def test_gates_are_the_final_check_of_run(tmp_path):
    p = plan(tmp_path, [killed(1), survived(1)])
    r = run(tmp_path, p, "--max-survived", "0")
    assert r.returncode == EXIT_SURVIVED, r.stderr
    r = run(tmp_path, p, "--fail-under", "60")  # a resume: the gate still sees every mutant
    assert r.returncode == EXIT_SCORE, r.stderr
    r = run(tmp_path, p, "--fail-under", "50", "--max-survived", "1")
    assert r.returncode == 0, r.stderr


def test_a_score_with_nothing_caught_or_survived_fails_the_score_gate(tmp_path):
    p = plan(tmp_path, [{"id": "cannot_start", "argv": [str(tmp_path / "no-such-program")]}])
    r = run(tmp_path, p, "--fail-under", "0")
    assert r.returncode == EXIT_SCORE, r.stderr
    assert "mutation score n/a" in r.stderr

"""Runs one fidelity project (tests/fidelity/<case>) three ways: `mutmut run`
(the reference), `mutcell mutmut --strategy pytest-main` and `--strategy
collected`, each in a fresh copy, and prints mutmut's status of every mutant
side by side. Exits 1 when a mutcell strategy differs from mutmut on a mutant.

    python tests/fidelity/compare.py CASE_DIR [--mutcell BIN] [--work DIR]
                                     [--ways mutmut,pytest-main,collected]
                                     [-- extra mutcell args]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

STATUS = re.compile(r"^\s+(\S+): (.+)$")


def results(project: Path, python: str) -> dict[str, str]:
    r = subprocess.run([python, "-m", "mutmut", "results", "--all", "true"], cwd=project,
                       capture_output=True, text=True)
    return {m.group(1): m.group(2) for m in map(STATUS.match, r.stdout.splitlines()) if m}


def run_way(way: str, case: Path, work: Path, mutcell: str, python: str, extra: list[str]) -> tuple[dict, str]:
    project = work / way
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(case, project, ignore=shutil.ignore_patterns("mutants", ".mutcell", "__pycache__"))
    if way == "mutmut":
        cmd = [python, "-m", "mutmut", "run", "--max-children", "2"]
    else:
        cmd = [mutcell, "mutmut", "--python", python, "--max-children", "2", "--strategy", way] + extra
    r = subprocess.run(cmd, cwd=project, capture_output=True, text=True, timeout=600)
    return results(project, python), r.stdout + r.stderr


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("case", type=Path)
    ap.add_argument("--mutcell", default=os.environ.get("MUTCELL_BINARY", "build/mutcell"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--ways", default="mutmut,pytest-main,collected")
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="mutcell-fidelity-"))
    ways = args.ways.split(",")
    got = {}
    for way in ways:
        got[way], out = run_way(way, args.case.resolve(), work, os.path.abspath(args.mutcell), args.python, args.extra)
        (work / f"{way}.out").write_text(out)
    names = sorted(set().union(*got.values()))
    diffs = 0
    print(f"{'mutant':50} " + " ".join(f"{w:12}" for w in ways))
    for n in names:
        row = [got[w].get(n, "-") for w in ways]
        mark = "" if len(set(row)) == 1 else "  DIFF"
        diffs += bool(mark)
        print(f"{n:50} " + " ".join(f"{v:12}" for v in row) + mark)
    print(f"{len(names)} mutants, {diffs} differ; outputs in {work}")
    return 1 if diffs or not names else 0


if __name__ == "__main__":
    sys.exit(main())

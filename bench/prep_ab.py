#!/usr/bin/env python3
"""Preparation before/after on the real projects (bench/realprojects.py):
`mutmut run` (fork) and `mutcell mutmut` (default) with two mutcell binaries,
in the same sitting, rounds in alternating order. Prints wall s, prep s
(wall minus mutants / the tool's own mutations/second, as docs/benchmarks.md
section 6 defines it) and, for mutcell, when its first mutant started (its
first attempt log) and the preparation's phases from .mutcell/prepare.json.

    python bench/prep_ab.py --before OLD/mutcell --after build/mutcell [--rounds 2] [--only isodate]

Not part of bench/run.sh (its section 6 runs the full comparison); this is
the quick A/B for changes to the preparation."""

from __future__ import annotations

import argparse
import fnmatch
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realprojects  # noqa: E402


def rate(text: str) -> float | None:
    m = re.findall(r"([0-9.]+) mutations/second", text)
    return float(m[-1]) if m else None


def checked(project: str, names: list[str]) -> int:
    n = 0
    for meta in glob.glob(os.path.join(project, "mutants", "**", "*.meta"), recursive=True):
        with open(meta) as f:
            for k, v in json.load(f)["exit_code_by_key"].items():
                if v is not None and (not names or any(fnmatch.fnmatchcase(k, p) for p in names)):
                    n += 1
    return n


def run_one(spec, sdist, work, label, argv_of, py, jobs):
    proj = realprojects.unpack(spec, sdist, os.path.join(work, f"{spec['name']}-{label.replace(' ', '_')}"))
    names = spec.get("names", [])
    env = dict(os.environ, **spec.get("env", {}))
    env["PATH"] = os.path.dirname(py) + ":" + env.get("PATH", "")
    env.pop("MUTANT_UNDER_TEST", None)
    t0 = time.monotonic()
    t0_wall = time.time()
    p = subprocess.run(argv_of(proj) + names, cwd=proj, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    # mutcell: when the first mutant of the run itself (not the strategy
    # check's) started, by its attempt log's creation.
    logs = glob.glob(os.path.join(proj, ".mutcell", "logs", "cell-*-attempt-1.log"))
    first = min(os.stat(f).st_mtime for f in logs) - t0_wall if logs else None
    text = p.stdout + p.stderr
    r = rate(text)
    n = checked(proj, names)
    prep = wall - n / r if r else None
    phases = ""
    try:
        with open(os.path.join(proj, ".mutcell", "prepare.json")) as f:
            ph = json.load(f).get("phases_s", {})
        phases = " ".join(f"{k} {v:.2f}" for k, v in ph.items())
    except (OSError, ValueError):
        pass
    shutil.rmtree(proj, ignore_errors=True)
    return {"label": label, "rc": p.returncode, "wall": wall, "prep": prep, "first": first, "n": n, "rate": r,
            "phases": phases,
            "tail": text[-2000:] if p.returncode else ""}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--max-children", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--no-mutmut", action="store_true")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mutcell-prep-ab-")
    mutmut = os.path.join(os.path.dirname(a.python), "mutmut")
    tools = ([("mutmut run (fork)", lambda proj: [mutmut, "run", "--max-children", str(a.max_children)])]
             if not a.no_mutmut else [])
    for label, binary in (("mutcell before", a.before), ("mutcell after", a.after)):
        tools.append((label, lambda proj, b=binary: [b, "mutmut", "--python", a.python, "--max-children",
                                                     str(a.max_children), "--state-dir",
                                                     os.path.join(proj, ".mutcell")]))
    results = []
    for spec in realprojects.PROJECTS:
        if a.only and spec["name"] != a.only:
            continue
        sdist = realprojects.fetch(spec, realprojects.default_cache_dir(), a.python)
        for rnd in range(a.rounds):
            order = tools if rnd % 2 == 0 else list(reversed(tools))
            for label, argv_of in order:
                r = run_one(spec, sdist, work, label, argv_of, a.python, a.max_children)
                r.update(project=f"{spec['name']} {spec['version']}", round=rnd + 1)
                results.append(r)
                print(f"{r['project']:16} round {r['round']}  {label:18} wall {r['wall']:6.1f} s  prep "
                      + (f"{r['prep']:5.1f} s" if r["prep"] is not None else "    -  ")
                      + (f"  first mutant at {r['first']:5.1f} s" if r["first"] is not None else "")
                      + f"  {r['n']} mutants at {r['rate'] or 0:.2f}/s  exit {r['rc']}  {r['phases']}", flush=True)
                if r["tail"]:
                    print(r["tail"], flush=True)
    print()
    for proj in dict.fromkeys(r["project"] for r in results):
        rows = [r for r in results if r["project"] == proj]
        for label in dict.fromkeys(r["label"] for r in rows):
            mine = [r for r in rows if r["label"] == label]
            walls = [r["wall"] for r in mine]
            preps = [r["prep"] for r in mine if r["prep"] is not None]
            firsts = [r["first"] for r in mine if r["first"] is not None]
            print(f"{proj:16} {label:18} wall mean {sum(walls) / len(walls):6.1f} s  prep mean "
                  + (f"{sum(preps) / len(preps):5.1f} s" if preps else "-")
                  + (f"  first mutant mean {sum(firsts) / len(firsts):5.1f} s" if firsts else ""))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Drives the zygote over every mutant of a project that `mutmut run` has
already finished, and compares its exit codes with mutmut's .meta verdicts.

    python tests/python/zygote_parity.py PROJECT [--strategy S] [--jobs N]
                                         [--cgroup-procs FILE ...] [--skip NAME ...]

Prints one line per difference and a summary with mutants per second; exits
1 on any difference. Not collected by pytest (slow; needs a mutmut-run copy).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_zygote import Driver  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("project", type=Path)
    ap.add_argument("--strategy", default="pytest-main")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cgroup-procs", nargs="*", default=[])
    ap.add_argument("--skip", nargs="*", default=[])
    ap.add_argument("--timeout-s", type=float, default=None)
    args = ap.parse_args()

    stats = json.loads((args.project / "mutants/mutmut-stats.json").read_text())
    tbf = stats["tests_by_mangled_function_name"]
    ref: dict[str, int | None] = {}
    for meta in sorted((args.project / "mutants").rglob("*.meta")):
        ref.update(json.loads(meta.read_text())["exit_code_by_key"])
    todo = [(k, tbf.get(k.partition("__mutmut_")[0], [])) for k in ref]
    todo = [(k, t) for k, t in todo if t and k not in args.skip]

    d = Driver(args.project, args.strategy)
    got: dict = {}
    signals: dict = {}
    try:
        ready = d.recv()
        t0 = time.monotonic()
        pending = list(enumerate(todo))
        running = 0
        names = {}
        while pending or running:
            while pending and running < args.jobs:
                i, (key, tests) = pending.pop(0)
                msg = {"type": "run", "id": i, "mutant": key, "tests": tests,
                       "cgroup_procs": args.cgroup_procs}
                if args.timeout_s:
                    msg["timeout_s"] = args.timeout_s
                d.send(msg)
                names[i] = key
                running += 1
            m = d.recv()
            if m["type"] == "exited":
                running -= 1
                key = names[m["id"]]
                if m["signal"] is not None:
                    got[key] = -m["signal"]
                    signals[key] = m["signal"]
                else:
                    got[key] = m["exit_code"]
        elapsed = time.monotonic() - t0
        d.send({"type": "stats"})
        st = d.recv()
        d.send({"type": "shutdown"})
        d.wait(60)
    finally:
        d.close()

    diffs = [(k, ref[k], got[k]) for k in got if ref[k] != got[k]]
    for k, want, have in diffs:
        print(f"DIFF {k}: mutmut {want} zygote {have}")
    print(f"{args.strategy}: {len(got)} mutants in {elapsed:.2f}s = {len(got) / elapsed:.2f}/s "
          f"(jobs {args.jobs}); zygote rss {ready['rss_bytes'] >> 20} MiB at ready, "
          f"{st['rss_bytes'] >> 20} MiB at end; warm-up {ready.get('warmup_s')}s; "
          f"{len(diffs)} differences; signals {signals}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())

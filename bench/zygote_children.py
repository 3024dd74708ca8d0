"""Per-child time of the real zygote, driven standalone (no mutcell, no
cells): the median wall time from `run` to `exited` of a project's killed or
surviving mutants, each run twice, one at a time; with `all`, the mean over
every mutant that has tests, each run once (verdicts as the project's .meta
files say).

    .venv/bin/python bench/zygote_children.py PROJECT [ZYGOTE_SCRIPT] [killed|survived|all]

PROJECT is a mutmut project after a `mutmut run` or `mutcell mutmut` (its
mutants/ tree, .meta verdicts and mutmut-stats.json); ZYGOTE_SCRIPT defaults
to sandbox/zygote/mutcell_zygote.py (give an older copy to compare in the
same sitting). Uses tests/python/test_zygote.py's Driver.
"""

import glob
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from test_zygote import ZYGOTE, Driver, run_one  # noqa: E402


def main() -> int:
    proj = Path(sys.argv[1]).resolve()
    script = Path(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else ZYGOTE
    kind = sys.argv[3] if len(sys.argv) > 3 else "killed"
    if kind not in ("killed", "survived", "all"):
        print(f"zygote_children.py: unknown kind {kind!r} (killed, survived or all)", file=sys.stderr)
        return 2
    want = {"killed": 1, "survived": 0}.get(kind)
    stats = json.loads((proj / "mutants" / "mutmut-stats.json").read_text())
    meta = {}
    for f in glob.glob(str(proj / "mutants" / "**" / "*.meta"), recursive=True):
        meta.update(json.loads(Path(f).read_text())["exit_code_by_key"])
    tests_of = stats["tests_by_mangled_function_name"]
    if want is None:
        keys = [k for k in sorted(meta) if meta[k] is not None and tests_of.get(k.partition("__mutmut_")[0])]
    else:
        keys = [k for k, v in sorted(meta.items()) if v == want][:40] * 2
    d = Driver(proj, "collected", script=script)
    times = []
    try:
        ready = d.recv()
        assert ready["type"] == "ready", ready
        for i, key in enumerate(keys):
            tests = tests_of[key.partition("__mutmut_")[0]]
            t = time.monotonic()
            exited = run_one(d, i, key, tests, timeout_s=30, output="/dev/null")
            times.append(time.monotonic() - t)
            assert exited["exit_code"] == (meta[key] if want is None else want), (key, exited)
        d.send({"type": "shutdown"})
        d.wait()
    finally:
        d.close()
    print(f"{kind}: n={len(times)} median {statistics.median(times) * 1000:.2f} ms, "
          f"mean {statistics.mean(times) * 1000:.2f} ms ({script})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Local simulation of a sharded run: one plan, run once unsharded and once as
n shards (each as its own `mutcell run --shard k/n` process, as n machines
would), then `mutcell merge`. Checks that the merged verdicts equal the
unsharded run's and prints the timings:

  one machine     wall time of the unsharded run
  n machines      the slowest shard + the merge (shards measured one after
                  another, so each has this machine to itself, like a runner)

The plan's mutants sleep for their estimate_s (skewed: most short, a few
long), then exit with a code that decides the verdict, so the balance of the
shards by estimate is what the timings show.

Usage: simulate_shards.py --mutcell BUILD/mutcell [--shards 4] [--mutants 300]
                          [--jobs 2] [--scale 1.0] [--work DIR] [--parallel]
Exit status: 0 when the verdicts agree, 1 when they differ or a step failed.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time


def make_plan(path, mutants, scale, seed=1):
    """Pareto-like estimates (shape 1.3, minimum 20 ms, capped at 2 s) times scale."""
    rng = random.Random(seed)
    total = 0.0
    with open(path, "w") as f:
        for i in range(mutants):
            estimate = min(2.0, 0.02 / (1.0 - rng.random() * 0.999) ** (1 / 1.3)) * scale
            total += estimate
            code = [1, 1, 1, 0, 0, 2, 1, 0, 1, 0][i % 10]  # ~60% killed, 40% survived
            f.write(json.dumps({
                "id": f"pkg.mod.x_f{i // 10}__mutmut_{i % 10}",
                "argv": ["sh", "-c", f"sleep {estimate:.3f}; exit {code}"],
                "estimate_s": round(estimate, 3),
                "timeout_s": 30,
            }) + "\n")
    return total


def mutcell(binary, args, check=True):
    started = time.monotonic()
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - started
    if check and p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(f"simulate_shards: `mutcell {' '.join(args)}` exited {p.returncode}")
    return p, elapsed


def verdicts(binary, state):
    p, _ = mutcell(binary, ["report", "--state-dir", state, "--format", "json"])
    return {r["id"]: r["verdict"] for r in json.loads(p.stdout)}


def estimates_by_shard(binary, plan, state_dirs):
    by_id = {}
    with open(plan) as f:
        for line in f:
            m = json.loads(line)
            by_id[m["id"]] = m["estimate_s"]
    out = []
    for s in state_dirs:
        with open(os.path.join(s, "plan.json")) as f:
            ids = [m["id"] for m in json.load(f)["mutants"]]
        out.append((len(ids), sum(by_id[i] for i in ids)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mutcell", required=True)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--mutants", type=int, default=300)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every sleep")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--work", help="keep everything here (default: a temporary directory, removed)")
    ap.add_argument("--parallel", action="store_true", help="run the shards at the same time on this machine")
    a = ap.parse_args()
    binary = os.path.abspath(a.mutcell)

    work = a.work or tempfile.mkdtemp(prefix="mutcell-shards-")
    os.makedirs(work, exist_ok=True)
    try:
        plan = os.path.join(work, "plan.jsonl")
        total = make_plan(plan, a.mutants, a.scale)
        common = ["--plan", plan, "--jobs", str(a.jobs), "--backend", a.backend, "-q"]
        print(f"plan: {a.mutants} mutants, estimated {total:.1f} s of test time; {a.jobs} jobs per machine")

        whole = os.path.join(work, "whole")
        shutil.rmtree(whole, ignore_errors=True)
        _, t_whole = mutcell(binary, ["run", "--state-dir", whole] + common)

        dirs = [os.path.join(work, f"shard{k}") for k in range(a.shards)]
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
        times = []
        if a.parallel:
            started = time.monotonic()
            procs = [subprocess.Popen([binary, "run", "--state-dir", d, "--shard", f"{k}/{a.shards}"] + common,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                     for k, d in enumerate(dirs)]
            for p in procs:
                _, err = p.communicate()
                if p.returncode != 0:
                    sys.stderr.write(err)
                    raise SystemExit(f"simulate_shards: a shard exited {p.returncode}")
                times.append(time.monotonic() - started)
        else:
            for k, d in enumerate(dirs):
                _, t = mutcell(binary, ["run", "--state-dir", d, "--shard", f"{k}/{a.shards}"] + common)
                times.append(t)

        merged = os.path.join(work, "merged")
        shutil.rmtree(merged, ignore_errors=True)
        _, t_merge = mutcell(binary, ["merge", "--out", merged] + dirs)
        p, _ = mutcell(binary, ["report", "--state-dir", merged, "--require-complete"], check=False)
        complete = p.returncode == 0

        for k, ((count, est), t) in enumerate(zip(estimates_by_shard(binary, plan, dirs), times)):
            print(f"shard {k}/{a.shards}: {count} mutants, estimated {est:.1f} s, ran in {t:.1f} s")
        ideal = total / a.shards
        largest = max(est for _, est in estimates_by_shard(binary, plan, dirs))
        print(f"balance: largest shard estimated {largest:.1f} s, ideal {ideal:.1f} s "
              f"(+{100 * (largest / ideal - 1):.1f}%)")
        print(f"one machine: {t_whole:.1f} s")
        label = "shards at once on this machine" if a.parallel else f"{a.shards} machines (slowest shard + merge)"
        print(f"{label}: {max(times) + t_merge:.1f} s (merge {t_merge:.2f} s), "
              f"speed-up {t_whole / (max(times) + t_merge):.2f}x")

        want, got = verdicts(binary, whole), verdicts(binary, merged)
        if not complete or want != got:
            diff = sorted(i for i in set(want) | set(got) if want.get(i) != got.get(i))
            print(f"MISMATCH: complete={complete}, {len(diff)} mutants differ, e.g. {diff[:5]}")
            return 1
        print(f"merged verdicts equal the unsharded run's ({len(got)} mutants, complete)")
        return 0
    finally:
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

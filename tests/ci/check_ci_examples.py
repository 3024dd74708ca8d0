#!/usr/bin/env python3
"""Checks examples/ci/: the GitHub Actions workflow and the Kubernetes
manifests parse as YAML and are wired as documented (matrix size = shard
count, cache restore/save around the shard step, merge after the shards,
Indexed completion mode, ...), the Slurm script passes `bash -n`; then the
commands each one runs are executed locally with the real mutcell binary,
with the environment the engine would set (MUTCELL_SHARD_INDEX,
JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID), and the merged verdicts must equal
an unsharded run's.

Usage: check_ci_examples.py --mutcell BUILD/mutcell
Exit: 0 ok, 1 a check failed, 77 skipped (PyYAML missing).
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CI = os.path.join(HERE, "..", "..", "examples", "ci")
sys.path.insert(0, CI)

try:
    import yaml
except ImportError:
    print("SKIPPED: PyYAML is not installed (python3 -c 'import yaml' fails); "
          "install python3-yaml or add PyYAML to scripts/requirements.txt", file=sys.stderr)
    sys.exit(77)

import simulate_shards  # noqa: E402  (examples/ci)

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)
    return cond


def run(cmd, cwd, env=None, shell=False):
    e = dict(os.environ)
    for k in ("MUTCELL_SHARD_INDEX", "MUTCELL_SHARD_COUNT", "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID",
              "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_STEP"):
        e.pop(k, None)
    e.update(env or {})
    p = subprocess.run(cmd, cwd=cwd, env=e, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.stderr.write(f"--- {cmd!r} exited {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def verdicts(mutcell, state):
    p = run([mutcell, "report", "--state-dir", state, "--format", "json"], cwd="/")
    return {r["id"]: r["verdict"] for r in json.loads(p.stdout)} if p.returncode == 0 else None


def github(mutcell, work, plan, expected):
    wf = yaml.safe_load(open(os.path.join(CI, "github-actions.yml")))
    check(isinstance(wf, dict), "github-actions.yml parses")
    jobs = wf.get("jobs", {})
    check(set(jobs) == {"build", "shard", "merge"}, "workflow has jobs build, shard, merge")
    n = int(wf["env"]["MUTCELL_SHARD_COUNT"])
    shard = jobs["shard"]
    check(shard.get("needs") == "build", "shards need the build")
    check(shard["strategy"]["matrix"]["shard"] == list(range(n)), f"matrix.shard is 0..{n - 1} (MUTCELL_SHARD_COUNT)")
    check(shard["strategy"].get("fail-fast") is False, "one failing shard does not cancel the others")
    steps = shard["steps"]
    uses = [s.get("uses", "") for s in steps]
    i_restore = next(i for i, u in enumerate(uses) if u.startswith("actions/cache/restore"))
    i_save = next(i for i, u in enumerate(uses) if u.startswith("actions/cache/save"))
    i_run = next(i for i, s in enumerate(steps) if "--shard auto" in s.get("run", ""))
    check(i_restore < i_run < i_save, "cache restore, shard run, cache save in that order")
    check(steps[i_save].get("if") == "always()", "the state is saved also when the shard was cancelled")
    check(steps[i_restore]["with"]["path"] == steps[i_save]["with"]["path"] == "mutcell-state",
          "restore and save the state directory")
    check("run_attempt" in steps[i_save]["with"]["key"] and steps[i_restore]["with"].get("restore-keys"),
          "each attempt saves its own key and restores the newest earlier one")
    check(steps[i_run].get("timeout-minutes", 1e9) < shard.get("timeout-minutes", 0),
          "the shard step times out before the job, so the save step runs")
    merge = jobs["merge"]
    check("shard" in merge["needs"] and "always()" in merge["if"], "merge runs after the shards, also after failures")
    merge_runs = [s for s in merge["steps"] if "run" in s]
    text = "\n".join(s["run"] for s in merge_runs)
    check("mutcell merge" in text and "--require-complete" in text and "--html" in text,
          "merge job merges, publishes HTML and requires completeness")

    # Run the shard step of each matrix job, then the merge job's steps.
    shard_cmd = steps[i_run]["run"]
    artifacts = os.path.join(work, "gh-merge", "shards")
    for k in range(n):
        job = os.path.join(work, f"gh-shard{k}")
        os.makedirs(os.path.join(job, "bin"))
        os.symlink(mutcell, os.path.join(job, "bin", "mutcell"))
        shutil.copy(plan, os.path.join(job, "mutants.jsonl"))
        env = {"MUTCELL_SHARD_INDEX": str(k), "MUTCELL_SHARD_COUNT": str(n)}
        p = run(["bash", "-e", "-c", shard_cmd + " --backend none -q --jobs 2"], cwd=job, env=env)
        check(p.returncode == 0, f"workflow shard {k}/{n} runs")
        shutil.copytree(os.path.join(job, "mutcell-state"), os.path.join(artifacts, f"mutcell-shard-{k}"),
                        ignore=shutil.ignore_patterns("logs", "lock*"))
    job = os.path.join(work, "gh-merge")
    os.makedirs(os.path.join(job, "bin"))
    os.symlink(mutcell, os.path.join(job, "bin", "mutcell"))
    env = {k: str(v) for k, v in wf["env"].items()}
    env["MAX_SURVIVOR_RATE"] = "0.9"
    summary = os.path.join(job, "step-summary.md")
    env["GITHUB_STEP_SUMMARY"] = summary
    for s in merge_runs:
        if s.get("shell", "").startswith("python3"):
            p = run(["python3", "-c", s["run"]], cwd=job, env=env)
        else:
            p = run(["bash", "-e", "-c", s["run"]], cwd=job, env=env)
        check(p.returncode == 0, f"workflow merge step runs: {s.get('name', s['run'].splitlines()[0])}")
    check(os.path.exists(os.path.join(job, "mutation-report.html")), "the HTML report is written")
    md = open(summary).read() if os.path.exists(summary) else ""
    check("## mutcell: mutation score" in md and f"| **total** | **{len(expected)}** |" in md,
          "the markdown summary is appended to $GITHUB_STEP_SUMMARY")
    try:
        schema_doc = json.load(open(os.path.join(job, "mutation-testing-report.json")))
    except (OSError, ValueError):
        schema_doc = {}
    check(schema_doc.get("schemaVersion") == "2" and
          sum(len(f["mutants"]) for f in schema_doc.get("files", {}).values()) == len(expected),
          "the mutation-testing JSON is written with every mutant")
    check(verdicts(mutcell, os.path.join(job, "merged")) == expected, "workflow: merged verdicts equal one run's")
    env["MAX_SURVIVOR_RATE"] = "0.01"
    gate = next(s for s in merge_runs if s.get("shell", "").startswith("python3"))
    check(run(["python3", "-c", gate["run"]], cwd=job, env=env).returncode == 1,
          "the survivor-rate gate fails above its limit")


def kubernetes(mutcell, work, plan, expected):
    docs = list(yaml.safe_load_all(open(os.path.join(CI, "kubernetes-indexed-job.yaml"))))
    job = next((d for d in docs if d and d.get("kind") == "Job"), None)
    check(job is not None, "kubernetes-indexed-job.yaml parses and holds a Job")
    spec = job["spec"]
    check(spec.get("completionMode") == "Indexed", "the Job is Indexed")
    container = spec["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container.get("env", [])}
    n = int(spec["completions"])
    check(int(env.get("MUTCELL_SHARD_COUNT", -1)) == n, "MUTCELL_SHARD_COUNT equals spec.completions")
    check(spec["template"]["spec"].get("restartPolicy") == "Never", "failed pods are retried as new pods")
    merge_doc = yaml.safe_load(open(os.path.join(CI, "kubernetes-merge-job.yaml")))
    check(merge_doc.get("kind") == "Job", "kubernetes-merge-job.yaml parses and holds a Job")
    merge_cmd = merge_doc["spec"]["template"]["spec"]["containers"][0]["command"]

    state = os.path.join(work, "k8s-state")
    src = os.path.join(work, "k8s-src")
    os.makedirs(state)
    os.makedirs(src)
    shutil.copy(plan, os.path.join(src, "mutants.jsonl"))

    def local(arg, index=None):
        if index is not None:
            arg = arg.replace("$(JOB_COMPLETION_INDEX)", str(index))
        return arg.replace("/state", state)

    for k in range(n):
        cmd = [local(a, k) for a in container["command"]]
        check(cmd[0] == "mutcell" and "--shard" in cmd and cmd[cmd.index("--shard") + 1] == "auto",
              f"pod {k} runs mutcell --shard auto")
        cmd[0] = mutcell
        p = run(cmd + ["--backend", "none", "-q", "--jobs", "2"], cwd=src,
                env={**env, "JOB_COMPLETION_INDEX": str(k)})
        check(p.returncode == 0, f"indexed pod {k} runs")
    script = local(merge_cmd[-1]).replace("mutcell ", shlex.quote(mutcell) + " ")
    p = run(["sh", "-c", script], cwd=work)
    check(p.returncode == 0, "the merge Job's command runs and finds every verdict")
    check(verdicts(mutcell, os.path.join(state, "merged")) == expected, "kubernetes: merged verdicts equal one run's")


def slurm(mutcell, work, plan, expected):
    script = os.path.join(CI, "slurm-array.sh")
    check(subprocess.run(["bash", "-n", script]).returncode == 0, "slurm-array.sh passes bash -n")
    text = open(script).read()
    m = re.search(r"^#SBATCH --array=(\d+)-(\d+)$", text, re.M)
    check(m is not None, "the array is one range")
    lo, hi = int(m.group(1)), int(m.group(2))
    state = os.path.join(work, "slurm-state")
    env = {"MUTCELL": mutcell, "PLAN": plan, "STATE_ROOT": state}
    # Submitted with the array shifted to 1-based, as users often do.
    for task in range(lo + 1, hi + 2):
        p = run(["bash", script, "shard"], cwd=work,
                env={**env, "SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_MIN": str(lo + 1),
                     "SLURM_ARRAY_TASK_COUNT": str(hi - lo + 1), "SLURM_CPUS_PER_TASK": "2"})
        check(p.returncode == 0, f"array task {task} runs")
    p = run(["bash", script, "merge"], cwd=work, env=env)
    check(p.returncode == 0, "the merge step runs and finds every verdict")
    check(verdicts(mutcell, os.path.join(state, "merged")) == expected, "slurm: merged verdicts equal one run's")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mutcell", required=True)
    a = ap.parse_args()
    mutcell = os.path.abspath(a.mutcell)
    work = tempfile.mkdtemp(prefix="mutcell-ci-check-")
    try:
        plan = os.path.join(work, "mutants.jsonl")
        simulate_shards.make_plan(plan, 40, 0.1)
        whole = os.path.join(work, "whole")
        p = run([mutcell, "run", "--plan", plan, "--state-dir", whole, "--backend", "none", "-q", "--jobs", "2"],
                cwd=work)
        check(p.returncode == 0, "unsharded reference run")
        expected = verdicts(mutcell, whole)
        for engine in (github, kubernetes, slurm):
            try:
                engine(mutcell, work, plan, expected)
            except (KeyError, StopIteration, TypeError, ValueError) as e:
                check(False, f"{engine.__name__}: unexpected structure: {e!r}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

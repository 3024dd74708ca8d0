#!/usr/bin/env python3
"""Checks examples/ci/: the GitHub Actions workflows and the Kubernetes
manifests parse as YAML and are wired as documented (matrix size = shard
count, cache restore/save around the shard step, merge after the shards,
Indexed completion mode, ...), the Slurm script passes `bash -n`; then the
commands each one runs are executed locally with the real mutcell binary,
with the environment the engine would set (MUTCELL_SHARD_INDEX,
JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID), and the merged verdicts must equal
an unsharded run's.

The mutmut workflow (github-actions-mutmut.yml) runs its shard and merge
steps in order on copies of examples/runaway, with these substitutions for
this host (each printed as it happens): the setup-python/pip step is served
by --venv (the repo's venv: the same mutmut and pytest pins) with the built
binary as `mutcell` on PATH; and since the tests run as root on cgroup v1,
the `sudo --preserve-env=...` prefix is dropped (on GitHub's runner it gives
sudo mode and a delegated v2 scope). Shard 0's first attempt is cancelled:
SIGINT to the step's shell (bash, which `exec`s mutcell) must reach mutcell,
which saves its journal and exits 130; the re-run in a fresh copy with the
cached state resumes and finishes.

Usage: check_ci_examples.py --mutcell BUILD/mutcell [--venv .venv]
Exit: 0 ok, 1 a check failed, 77 skipped (PyYAML missing).
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

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


CAUGHT = ("killed", "timeout", "oom", "crashed")  # the README's mutation score: caught of caught + survived


def merge_steps_in_order(merge_runs, what):
    """merge, then the reports, then completeness, then the gates (the last step)."""
    texts = [s["run"] for s in merge_runs]
    i_merge = next(i for i, t in enumerate(texts) if "mutcell merge" in t)
    i_report = next(i for i, t in enumerate(texts) if "mutcell report" in t)
    i_complete = next(i for i, t in enumerate(texts) if "--require-complete" in t)
    i_gate = next(i for i, t in enumerate(texts) if "--fail-under" in t)
    check(i_merge < i_report < i_complete < i_gate == len(texts) - 1,
          f"{what}: merge, reports, completeness, gates in that order")
    gate = texts[i_gate]
    check('--fail-under "$MIN_SCORE"' in gate and '--max-survived "$MAX_SURVIVED"' in gate and
          all(s.get("shell") is None for s in merge_runs),
          f"{what}: the gate is `mutcell report --fail-under --max-survived` (no script of its own)")
    return merge_runs[i_gate]


def check_gate(mutcell, state, run_gate, what):
    """The gate step fails exactly when it should: exit 5 just above the
    score, 6 just below the survivor count, 0 at both limits."""
    p = run([mutcell, "report", "--state-dir", state, "--format", "json"], cwd="/")
    rows = json.loads(p.stdout) if p.returncode == 0 else []
    caught = sum(r["verdict"] in CAUGHT for r in rows)
    survived = sum(r["verdict"] == "survived" for r in rows)
    if not check(caught + survived > 0, f"{what}: the run has a mutation score"):
        return
    score = 100.0 * caught / (caught + survived)
    print(f"note: {what}: {caught} caught, {survived} survived, score {score!r}")
    check(run_gate({"MIN_SCORE": repr(score), "MAX_SURVIVED": str(survived)}) == 0,
          f"{what}: the gate passes at score {score:.2f} = MIN_SCORE and {survived} survivors = MAX_SURVIVED")
    if score < 100:
        check(run_gate({"MIN_SCORE": repr(min(100.0, score + 0.01)), "MAX_SURVIVED": str(survived)}) == 5,
              f"{what}: the gate fails (exit 5) when the score is below MIN_SCORE")
    if survived > 0:
        check(run_gate({"MIN_SCORE": "0", "MAX_SURVIVED": str(survived - 1)}) == 6,
              f"{what}: the gate fails (exit 6) when more than MAX_SURVIVED survived")


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
    env.update(MIN_SCORE="0", MAX_SURVIVED="1000000")  # this plan's score is not the project's
    summary = os.path.join(job, "step-summary.md")
    env["GITHUB_STEP_SUMMARY"] = summary
    gate = merge_steps_in_order(merge_runs, "github-actions.yml")
    for s in merge_runs:
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
    check_gate(mutcell, os.path.join(job, "merged"),
               lambda over: run(["bash", "-e", "-c", gate["run"]], cwd=job, env={**env, **over}).returncode,
               "github-actions.yml")


def journal_ids(state):
    path = os.path.join(state, "journal.jsonl")
    if not os.path.exists(path):
        return []
    ids = []
    for line in open(path):
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a torn last line while mutcell writes
        if isinstance(rec, dict) and "verdict" in rec and "id" in rec:
            ids.append(rec["id"])
    return ids


def step_script(run_text, mutcell):
    """A run step as this host runs it: root on cgroup v1 needs no sudo."""
    m = re.search(r"exec sudo --preserve-env=\S+\s+(?:\\\n\s*)?", run_text)
    if m:
        print("note: running as root here, the step's `sudo --preserve-env=...` prefix is dropped")
        run_text = run_text[:m.start()] + "exec " + run_text[m.end():]
    if "--require-cells" in run_text:
        helptext = subprocess.run([mutcell, "mutmut", "--help"], stdout=subprocess.PIPE, text=True).stdout
        if "--require-cells" not in helptext:
            print("note: this mutcell has no --require-cells yet (it comes with sudo mode); dropped here")
            run_text = run_text.replace(" --require-cells", "")
    return run_text


def github_mutmut(mutcell, work, venv):
    wf = yaml.safe_load(open(os.path.join(CI, "github-actions-mutmut.yml")))
    check(isinstance(wf, dict), "github-actions-mutmut.yml parses")
    jobs = wf.get("jobs", {})
    check(set(jobs) == {"wheel", "shard", "merge"}, "mutmut workflow has jobs wheel, shard, merge")
    check(any("make-wheel.sh" in s.get("run", "") for s in jobs["wheel"]["steps"]) and
          any(s.get("uses", "").startswith("actions/upload-artifact") for s in jobs["wheel"]["steps"]),
          "the wheel job builds the wheel once and uploads it")
    n = int(wf["env"]["MUTCELL_SHARD_COUNT"])
    shard = jobs["shard"]
    check(shard.get("needs") == "wheel", "shards need the wheel")
    check(shard["strategy"]["matrix"]["shard"] == list(range(n)), f"matrix.shard is 0..{n - 1} (MUTCELL_SHARD_COUNT)")
    check(shard["strategy"].get("fail-fast") is False, "one failing shard does not cancel the others")
    steps = shard["steps"]
    uses = [s.get("uses", "") for s in steps]
    i_py = next(i for i, u in enumerate(uses) if u.startswith("actions/setup-python"))
    i_pip = next(i for i, s in enumerate(steps) if "pip install" in s.get("run", ""))
    i_restore = next(i for i, u in enumerate(uses) if u.startswith("actions/cache/restore"))
    i_run = next(i for i, s in enumerate(steps) if "mutcell)\" mutmut" in s.get("run", ""))
    i_save = next(i for i, u in enumerate(uses) if u.startswith("actions/cache/save"))
    i_upload = next(i for i, u in enumerate(uses) if u.startswith("actions/upload-artifact"))
    check(i_py < i_pip < i_restore < i_run < i_save < i_upload,
          "setup-python, pip install, cache restore, shard run, cache save, upload in that order")
    pip = steps[i_pip]["run"]
    check("mutmut==3.8.1" in pip and "pytest" in pip and "dist/mutcell-" in pip,
          "the shard installs mutmut==3.8.1, pytest and the wheel")
    run_text = steps[i_run]["run"]
    check(run_text.lstrip().startswith("exec "), "the shard step `exec`s, so the step's signal reaches mutcell")
    check("sudo --preserve-env=" in run_text and "--require-cells" in run_text and "--shard auto" in run_text,
          "the shard runs `sudo` mutcell mutmut --require-cells --shard auto")
    check(steps[i_save].get("if") == "always()" and steps[i_upload].get("if") == "always()",
          "the state is saved and handed on also when the shard was cancelled")
    check(steps[i_restore]["with"]["path"] == steps[i_save]["with"]["path"] == ".mutcell",
          "restore and save the state directory .mutcell")
    check("run_attempt" in steps[i_save]["with"]["key"] and steps[i_restore]["with"].get("restore-keys"),
          "each attempt saves its own key and restores the newest earlier one")
    check(steps[i_upload]["with"].get("include-hidden-files") is True, "the upload includes .mutcell (a hidden dir)")
    check(steps[i_run].get("timeout-minutes", 1e9) < shard.get("timeout-minutes", 0),
          "the shard step times out before the job, so the save step runs")
    merge = jobs["merge"]
    check("shard" in merge["needs"] and "always()" in merge["if"], "merge runs after the shards, also after failures")

    # The shard jobs, as the runner would run their steps (GitHub's bash
    # invocation: bash --noprofile --norc -eo pipefail SCRIPT).
    bindir = os.path.join(work, "ghm-bin")
    os.makedirs(bindir)
    os.symlink(mutcell, os.path.join(bindir, "mutcell"))
    print(f"note: the pip install step is served by {venv} (same pins) and {mutcell} as `mutcell` on PATH")
    base_env = {k: str(v) for k, v in wf["env"].items()}
    base_env["PATH"] = bindir + ":" + os.path.join(venv, "bin") + ":" + os.environ.get("PATH", "/usr/bin:/bin")
    cache = {}
    artifacts = os.path.join(work, "ghm-merge", "shards")
    example = os.path.join(HERE, "..", "..", "examples", "runaway")

    def new_job(name):
        job = os.path.join(work, name)
        shutil.copytree(example, job)  # actions/checkout: a fresh checkout each attempt
        return job

    def step_cmd(job, text):
        path = os.path.join(job, ".step.sh")
        with open(path, "w") as f:
            f.write(step_script(text, mutcell))
        return ["bash", "--noprofile", "--norc", "-eo", "pipefail", path]

    def run_steps(job, env, until):
        for s in steps[:until]:
            if "run" in s and s is not steps[i_pip]:
                p = run(step_cmd(job, s["run"]), cwd=job, env=env)
                check(p.returncode == 0, f"step runs: {s.get('name', s['run'].splitlines()[0])}")

    total = 0
    for k in range(n):
        env = {**base_env, "MUTCELL_SHARD_INDEX": str(k)}
        state = None
        if k == 0:
            # Attempt 1, cancelled once mutants have verdicts.
            job = new_job(f"ghm-shard{k}-attempt1")
            run_steps(job, env, i_run)
            e = dict(os.environ)
            e.update(env)
            log = open(os.path.join(job, ".step.log"), "w")
            proc = subprocess.Popen(step_cmd(job, run_text), cwd=job, env=e, stdout=log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 240
            while proc.poll() is None and not journal_ids(os.path.join(job, ".mutcell")) and time.monotonic() < deadline:
                time.sleep(0.02)
            was_running = proc.poll() is None
            if was_running:
                proc.send_signal(signal.SIGINT)  # what the runner does on cancel and step timeout
            rc = proc.wait(timeout=120)
            log.close()
            out = open(os.path.join(job, ".step.log")).read()
            first = journal_ids(os.path.join(job, ".mutcell"))
            check(was_running and rc == 130, f"SIGINT to the step's shell reached mutcell: exit {rc} (want 130)")
            if rc != 130:
                sys.stderr.write(out)
            check("run the same command again to resume" in out, "mutcell says the run can resume")
            state = os.path.join(work, f"ghm-cache{k}")
            if os.path.isdir(os.path.join(job, ".mutcell")):
                shutil.copytree(os.path.join(job, ".mutcell"), state)  # actions/cache/save (if: always())
            else:
                state = None
            print(f"cancelled attempt recorded {len(first)} verdicts")
        # (Re-)run: a fresh checkout; actions/cache/restore brings the state back.
        job = new_job(f"ghm-shard{k}")
        if state:
            shutil.copytree(state, os.path.join(job, ".mutcell"))
        run_steps(job, env, i_run)
        p = run(step_cmd(job, run_text), cwd=job, env=env)
        check(p.returncode == 0, f"workflow shard {k}/{n} runs to the end")
        ids = journal_ids(os.path.join(job, ".mutcell"))
        total += len(set(ids))
        if k == 0:
            check(f"reusing {len(set(first))} verdicts" in p.stdout + p.stderr,
                  f"the re-run resumes from the {len(set(first))} saved verdicts")
            check(len(ids) == len(set(ids)) and ids[:len(first)] == first,
                  "the re-run ran only the mutants without a verdict (no mutant twice in the journal)")
        shutil.copytree(os.path.join(job, ".mutcell"), os.path.join(artifacts, f"mutcell-shard-{k}"),
                        ignore=shutil.ignore_patterns("logs", "lock*"))
    check(total == 24, f"the shards together ran the 24 mutants of examples/runaway ({total})")

    job = os.path.join(work, "ghm-merge")
    env = dict(base_env)
    merge_runs = [s for s in merge["steps"] if "run" in s and "pip install" not in s["run"]]
    gate = merge_steps_in_order(merge_runs, "github-actions-mutmut.yml")
    for s in merge_runs:
        p = run(step_cmd(job, s["run"]), cwd=job, env=env)
        check(p.returncode == 0, f"mutmut workflow merge step runs: {s.get('name', s['run'].splitlines()[0])}")
    check(os.path.exists(os.path.join(job, "mutation-report.html")), "the HTML report is written")
    rows = json.load(open(os.path.join(job, "mutation-report.json")))
    counts = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    check(counts == {"killed": 20, "survived": 3, "oom": 1},
          f"merged verdicts of examples/runaway: {counts} (20 killed, 3 survived, the runaway oom)")
    # The workflow's own limits pass on examples/runaway (score 87.5, 3 survivors).
    check(run(step_cmd(job, gate["run"]), cwd=job, env=env).returncode == 0,
          "the mutmut workflow's gate passes examples/runaway with its own MIN_SCORE and MAX_SURVIVED")
    check_gate(mutcell, os.path.join(job, "merged"),
               lambda over: run(step_cmd(job, gate["run"]), cwd=job, env={**env, **over}).returncode,
               "github-actions-mutmut.yml")


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
    ap.add_argument("--venv", help="a venv with mutmut and pytest (the repo's .venv) for the mutmut workflow")
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
        venv = os.path.abspath(a.venv or os.path.join(HERE, "..", "..", ".venv"))
        if not os.path.exists(os.path.join(venv, "bin", "mutmut")):
            check(False, f"the mutmut workflow needs {venv} with mutmut and pytest (./dev build makes it)")
        else:
            try:
                github_mutmut(mutcell, work, venv)
            except (KeyError, StopIteration, TypeError, ValueError) as e:
                check(False, f"github_mutmut: unexpected structure: {e!r}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

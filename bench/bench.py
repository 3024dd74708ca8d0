"""mutcell against mutmut, side by side on this machine. Run through bench/run.sh.

Scenarios (each prints one table; all tables go to the --out Markdown file):
  1 throughput  mutcell mutmut (each strategy) vs mutmut run (each isolation mode)
  2 overhead    per-mutant cost vs bare fork/_exit and fork/exec loops
  3 memory      whole-run peak per tool (cgroup v1), zygote memory with/without recycling
  4 oom         the runaway example under an emulated systemd OOMPolicy=stop
  5 scale       planning, journal append, resume-load for 100,000 mutants
  6 real        real projects from PyPI (bench/realprojects.py): mutmut run vs mutcell's strategies,
                verdicts mutant by mutant, killer-first test order (not in --quick)

With --only, the sections of the existing --out file that this run does not
produce are kept (so `--only 6` adds the real projects to docs/benchmarks.md).

Every run happens in a fresh copy under a temporary directory (never in the
repository's examples/), inside a cgroup v1 memory cgroup `mutcell-bench-*`
created below our own memory cgroup and removed afterwards.
"""

import argparse
import datetime
import fnmatch
import glob
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import genproject  # noqa: E402
import realprojects  # noqa: E402

MEM_ROOT = "/sys/fs/cgroup/memory"
GIB = 1 << 30
MIB = 1 << 20


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- cgroups


def own_memory_cgroup():
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                return MEM_ROOT + path.rstrip("/")
    return None


class MemCgroup:
    """A cgroup v1 memory cgroup wrapping one tool run; removed by close()."""

    count = 0

    def __init__(self, label, limit_bytes=None):
        base = own_memory_cgroup()
        if base is None or not os.path.isdir(base):
            raise RuntimeError("no cgroup v1 memory hierarchy at " + MEM_ROOT)
        MemCgroup.count += 1
        self.path = f"{base}/mutcell-bench-{os.getpid()}-{MemCgroup.count}-{label}"
        os.mkdir(self.path)
        if limit_bytes:
            # memsw first may fail while it is below the memory limit, so order matters.
            self._write("memory.limit_in_bytes", str(limit_bytes))
            if os.path.exists(self.path + "/memory.memsw.limit_in_bytes"):
                self._write("memory.memsw.limit_in_bytes", str(limit_bytes))

    def _write(self, name, value):
        with open(f"{self.path}/{name}", "w") as f:
            f.write(value)

    def enter_fn(self):
        procs = self.path + "/cgroup.procs"

        def enter():
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
            os.setsid()

        return enter

    def peak(self):
        with open(self.path + "/memory.max_usage_in_bytes") as f:
            return int(f.read())

    def oom_kills(self):
        """oom_kill summed over this cgroup and every cgroup below it (cgroup v1
        counts an OOM kill only in the cgroup whose limit was hit; cgroup v2's
        memory.events, which systemd reads, counts the whole subtree)."""
        total = 0
        for d, _, _ in os.walk(self.path):
            try:
                with open(d + "/memory.oom_control") as f:
                    for line in f:
                        k, _, v = line.partition(" ")
                        if k == "oom_kill":
                            total += int(v)
            except OSError:
                pass
        return total

    def pids(self):
        out = []
        for d, _, _ in os.walk(self.path):
            try:
                with open(d + "/cgroup.procs") as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                pass
        return out

    def kill_all(self, sig=signal.SIGKILL):
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def close(self):
        for _ in range(100):
            self.kill_all()
            if not self.pids():
                break
            time.sleep(0.05)
        # Children first (a tool's own cells, if it left any).
        for d, _, _ in sorted(os.walk(self.path), key=lambda t: -len(t[0])):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def run_in_cgroup(label, argv, cwd, env, log_path, limit_bytes=None, timeout_s=900, watcher=None):
    """Runs argv in its own memory cgroup. Returns dict(rc, wall_s, peak, oom_kills, maxrss, ...)."""
    cg = MemCgroup(label, limit_bytes)
    try:
        with open(log_path, "wb") as out:
            t0 = time.monotonic()
            p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, preexec_fn=cg.enter_fn())
            extra = {}
            stop = threading.Event()
            th = None
            if watcher:
                th = threading.Thread(target=watcher, args=(cg, p, stop, extra, t0), daemon=True)
                th.start()
            timed_out = False
            try:
                _, status, ru = os.wait4(p.pid, 0)
            except ChildProcessError:
                status, ru = 0, None
            p.returncode = os.waitstatus_to_exitcode(status)
            wall = time.monotonic() - t0
            if wall > timeout_s:
                timed_out = True
            stop.set()
            if th:
                th.join()
        res = {"rc": p.returncode, "wall_s": wall, "peak": cg.peak(), "oom_kills": cg.oom_kills(),
               "maxrss": (ru.ru_maxrss * 1024) if ru else 0, "timed_out": timed_out}
        res.update(extra)
        return res
    finally:
        cg.close()


def deadline_watcher(timeout_s):
    def watch(cg, p, stop, extra, t0):
        while not stop.wait(0.5):
            if time.monotonic() - t0 > timeout_s:
                extra["killed_by_bench_timeout"] = True
                cg.kill_all(signal.SIGKILL)
                return
    return watch


def oompolicy_stop_watcher(grace_s=10.0):
    """Emulates systemd's OOMPolicy=stop: as soon as an oom_kill is counted in
    the run's cgroup, SIGTERM every process of the run; SIGKILL after grace_s."""
    def watch(cg, p, stop, extra, t0):
        while not stop.wait(0.01):
            if cg.oom_kills() > 0:
                extra["stopped_at_s"] = time.monotonic() - t0
                extra["stopped_by_watcher"] = True
                cg.kill_all(signal.SIGTERM)
                if stop.wait(grace_s):
                    return
                extra["sigkill_after_grace"] = True
                cg.kill_all(signal.SIGKILL)
                return
    return watch


# ---------------------------------------------------------------- helpers


def fmt_ms(s):
    return f"{s * 1000:.2f}"


def fmt_size(b):
    if b is None:
        return "-"
    return f"{b / MIB:.1f} MiB" if b < GIB else f"{b / GIB:.2f} GiB"


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


def read_meta_codes(project):
    codes = {}
    for meta in glob.glob(os.path.join(project, "mutants", "**", "*.meta"), recursive=True):
        with open(meta) as f:
            codes.update(json.load(f)["exit_code_by_key"])
    return codes


def read_meta_durations(project):
    """mutmut's per-mutant durations (`durations_by_key` of its .meta files:
    its child's time, as `mutmut run` measures it)."""
    out = {}
    for meta in glob.glob(os.path.join(project, "mutants", "**", "*.meta"), recursive=True):
        with open(meta) as f:
            d = json.load(f).get("durations_by_key") or {}
        out.update({k: v for k, v in d.items() if isinstance(v, (int, float))})
    return out


def set_mutmut_options(project, **opts):
    path = os.path.join(project, "pyproject.toml")
    with open(path) as f:
        text = f.read()
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in opts.items())
    assert "[tool.mutmut]\n" in text, path
    text = text.replace("[tool.mutmut]\n", "[tool.mutmut]\n" + lines, 1)
    with open(path, "w") as f:
        f.write(text)


def rate_from_log(log_path):
    try:
        with open(log_path, errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    m = re.findall(r"([0-9.]+) mutations/second", text)
    return float(m[-1]) if m else None


def realprojects_status(code):
    return {None: "not checked", 0: "survived", 1: "killed", 33: "no tests", 34: "skipped", 35: "suspicious",
            36: "timeout"}.get(code, f"exit {code}")


def prepare_phases(state_dir):
    """mutmut's preparation phases as mutcell ran them (its prepare.json), "" if none."""
    try:
        with open(os.path.join(state_dir, "prepare.json")) as f:
            phases = json.load(f).get("phases_s", {})
    except (OSError, ValueError, AttributeError):
        return ""
    short = {"import": "import", "generate": "gen", "stats": "stats", "clean_run": "clean", "forced_fail": "ff"}
    return ", ".join(f"{short[k]} {phases[k]:.1f}" for k in short if isinstance(phases.get(k), (int, float)))


def read_journal(state_dir):
    out = {}
    with open(os.path.join(state_dir, "journal.jsonl")) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("type") == "result":
                out[r["id"]] = r
    return out


class Bench:
    def __init__(self, args):
        self.a = args
        self.py = args.python
        self.mutcell = args.mutcell
        self.jobs = args.max_children
        self.work = tempfile.mkdtemp(prefix="mutcell-bench-")
        self.env = dict(os.environ)
        self.env["PATH"] = os.path.dirname(self.py) + ":" + self.env.get("PATH", "")
        self.env.pop("MUTANT_UNDER_TEST", None)
        self.sections = []
        self.headlines = []
        self.failures = []

    def section(self, title, text):
        print(f"\n## {title}\n\n{text}\n", flush=True)
        self.sections.append(f"## {title}\n\n{text}\n")

    def copy_project(self, src, name):
        dst = os.path.join(self.work, name)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("mutants", ".mutcell", "__pycache__"))
        return dst

    def mutcell_mutmut_argv(self, strategy, *extra, state_dir):
        return [self.mutcell, "mutmut", "--python", self.py, "--max-children", str(self.jobs), "--strategy",
                strategy, "--state-dir", state_dir, *extra]

    # ------------------------------------------------------------ 1 + 3a

    def configs(self):
        out = [("mutmut run (fork)", "mutmut", {"process_isolation": "fork"})]
        for w in ("collect", "import", "none"):
            out.append((f"mutmut run (forkserver, warmup={w})", "mutmut",
                        {"process_isolation": "forkserver", "forkserver_warmup": w}))
        for s in ("pytest-main", "collected"):
            out.append((f"mutcell mutmut --strategy {s}", "mutcell", {"strategy": s}))
        return out

    def throughput(self, label, src):
        log(f"throughput on {label}")
        rows, results = [], []
        ref = None
        for i, (name, tool, opts) in enumerate(self.configs()):
            proj = self.copy_project(src, f"{label}-{i}")
            logf = os.path.join(self.work, f"{label}-{i}.log")
            if tool == "mutmut":
                set_mutmut_options(proj, **opts)
                argv = [os.path.join(os.path.dirname(self.py), "mutmut"), "run", "--max-children", str(self.jobs)]
            else:
                argv = self.mutcell_mutmut_argv(opts["strategy"], state_dir=os.path.join(proj, ".mutcell"))
            log(f"  {name}")
            r = run_in_cgroup(f"tp{i}", argv, proj, self.env, logf, watcher=deadline_watcher(self.a.run_timeout))
            codes = read_meta_codes(proj)
            r.update(name=name, tool=tool, codes=codes, rate=rate_from_log(logf), log=logf)
            checked = [k for k, v in codes.items() if v is not None]
            r["mutants"] = len(codes)
            r["checked"] = len(checked)
            if r["rc"] != 0 or r.get("killed_by_bench_timeout"):
                self.failures.append(f"{label}: {name} " + (
                    f"cut by the harness at {self.a.run_timeout} s ({r['checked']} of {r['mutants']} checked)"
                    if r.get("killed_by_bench_timeout") else f"exited {r['rc']}"))
            if ref is None:
                ref = codes
            results.append(r)
            shutil.rmtree(proj, ignore_errors=True)
        fastest_mutmut = min((r for r in results if r["tool"] == "mutmut"),
                             key=lambda r: (bool(r.get("killed_by_bench_timeout")), r["wall_s"]))
        best_rate = max((r["rate"] or 0) for r in results if r["tool"] == "mutmut")
        disagreements = []
        for r in results:
            cut = bool(r.get("killed_by_bench_timeout"))
            agree = sum(1 for k, v in ref.items() if v is not None and r["codes"].get(k) == v)
            # A run cut at the harness's deadline left mutants unchecked: not a disagreement.
            dis = [(k, v, r["codes"].get(k)) for k, v in sorted(ref.items())
                   if r["codes"].get(k) != v and not (cut and r["codes"].get(k) is None)]
            r["agree"] = agree
            for k, a, b in dis:
                disagreements.append(f"- {r['name']}: `{k}` mutmut-fork {a} vs {b}")
            mps = r["checked"] / r["wall_s"] if r["wall_s"] > 0 else 0
            r["mps"] = mps
            rows.append([r["name"], f"{r['wall_s']:.1f}", f"{mps:.1f}",
                         f"{r['rate']:.1f}" if r["rate"] else "-",
                         f"{fastest_mutmut['wall_s'] / r['wall_s']:.2f}×",
                         f"{r['rate'] / best_rate:.2f}×" if r["rate"] and best_rate else "-",
                         f"{agree}/{r['checked']} checked (cut at {self.a.run_timeout} s)" if cut
                         else f"{agree}/{len(ref)}", fmt_size(r["peak"]), r["rc"]])
        text = (f"Project `{label}`: {len(ref)} mutants, `--max-children {self.jobs}`. Wall time is the whole "
                "command (mutmut's preparation included for both tools: mutcell runs mutmut's own preparation "
                "first). *tool rate* is the `mutations/second` each tool prints for its mutant phase. *speed-up* "
                "(wall) is the fastest `mutmut run` mode's wall time divided by this row's; *speed-up (tool rate)* is this row's tool rate divided by the best `mutmut run` tool rate (the mutant phase alone). *agree* counts mutants whose "
                "`.meta` exit code equals `mutmut run (fork)`'s. *peak* is the run cgroup's "
                "`memory.max_usage_in_bytes` (page cache included).\n\n")
        text += table(["command", "wall s", "mutants/s", "tool rate /s", "speed-up (wall)", "speed-up (tool rate)", "agree",
                       "peak", "exit"], rows)
        if disagreements:
            text += "\n\nDisagreements:\n\n" + "\n".join(disagreements[:50])
            if len(disagreements) > 50:
                text += f"\n- ... {len(disagreements) - 50} more"
            self.failures.append(f"{label}: {len(disagreements)} verdict disagreements")
        else:
            text += "\n\nAll verdicts agree."
        self.section(f"1. Throughput: {label}", text)
        best = {r["name"]: r for r in results}
        for s in ("collected", "pytest-main"):
            r = best[f"mutcell mutmut --strategy {s}"]
            self.headlines.append(f"{label}: mutcell {s} {fastest_mutmut['wall_s'] / r['wall_s']:.2f}× the fastest "
                                  f"mutmut mode ({fastest_mutmut['name']}), {r['mps']:.1f} vs "
                                  f"{fastest_mutmut['mps']:.1f} mutants/s")
        return results

    # ------------------------------------------------------------ 6

    def real_configs(self):
        return [("mutmut run (fork)", "mutmut", []),
                ("mutcell mutmut (default)", "mutcell", []),
                ("mutcell mutmut --strategy pytest-main", "mutcell", ["--strategy", "pytest-main"]),
                ("mutcell mutmut --strategy collected", "mutcell", ["--strategy", "collected"]),
                ("mutcell mutmut --strategy collected --test-order fastest", "mutcell",
                 ["--strategy", "collected", "--test-order", "fastest"]),
                # The killer-first pair again in the other order: the machine's
                # load drifts, and the pair's difference is small.
                ("(repeat) mutcell mutmut --strategy collected --test-order fastest", "mutcell",
                 ["--strategy", "collected", "--test-order", "fastest"]),
                ("(repeat) mutcell mutmut --strategy collected", "mutcell", ["--strategy", "collected"])]

    def real_project(self, spec):
        label = f"{spec['name']} {spec['version']}"
        log(f"real project {label}")
        sdist = realprojects.fetch(spec, self.a.cache_dir, self.py)
        env = dict(self.env, **spec.get("env", {}))
        names = spec.get("names", [])
        results = []
        for i, (name, tool, extra) in enumerate(self.real_configs()):
            proj = realprojects.unpack(spec, sdist, os.path.join(self.work, f"{spec['name']}-{i}"))
            logf = os.path.join(self.work, f"{spec['name']}-{i}.log")
            state = os.path.join(proj, ".mutcell")
            if tool == "mutmut":
                argv = [os.path.join(os.path.dirname(self.py), "mutmut"), "run", "--max-children", str(self.jobs),
                        *names]
            else:
                argv = [self.mutcell, "mutmut", "--python", self.py, "--max-children", str(self.jobs),
                        "--state-dir", state, *extra, *names]
            log(f"  {name}")
            r = run_in_cgroup(f"real{i}", argv, proj, env, logf, watcher=deadline_watcher(self.a.run_timeout))
            codes = read_meta_codes(proj)
            durations = read_meta_durations(proj) if tool == "mutmut" else {}
            if names:
                codes = {k: v for k, v in codes.items() if any(fnmatch.fnmatchcase(k, n) for n in names)}
            r.update(name=name, tool=tool, codes=codes, rate=rate_from_log(logf), argv=argv, durations=durations)
            r["checked"] = sum(1 for v in codes.values() if v is not None)
            r["journal"] = read_journal(state) if os.path.exists(os.path.join(state, "journal.jsonl")) else {}
            r["phases"] = prepare_phases(state)
            if r["rc"] != 0 or r.get("killed_by_bench_timeout"):
                self.failures.append(f"{label}: {name} " + ("cut by the harness" if r.get("killed_by_bench_timeout")
                                                            else f"exited {r['rc']}"))
            results.append(r)
            shutil.rmtree(proj, ignore_errors=True)
        ref = results[0]
        rows, dis_lines = [], []
        for r in results:
            phase = r["checked"] / r["rate"] if r["rate"] else None
            dis = [(k, v, r["codes"].get(k)) for k, v in sorted(ref["codes"].items()) if r["codes"].get(k) != v]
            for k, a, b in dis:
                j = r["journal"].get(k, {})
                why = f" ({j.get('verdict')}{': ' + j['error'] if j.get('error') else ''})" if j else ""
                dis_lines.append(f"- {r['name']}: `{k}` mutmut {realprojects_status(a)} vs {realprojects_status(b)}{why}")
            rows.append([r["name"], f"{r['wall_s']:.1f}", f"{r['checked'] / r['wall_s']:.1f}" if r["wall_s"] else "-",
                         f"{r['rate']:.1f}" if r["rate"] else "-",
                         f"{r['wall_s'] - phase:.1f}" if phase is not None else "-",
                         r["phases"] or "-",
                         f"{ref['wall_s'] / r['wall_s']:.2f}×",
                         f"{r['rate'] / ref['rate']:.2f}×" if r["rate"] and ref["rate"] else "-",
                         f"{len(ref['codes']) - len(dis)}/{len(ref['codes'])}", r["rc"]])
        # Killer-first: the same strategy with and without it (each twice, in
        # opposite order), attempt time summed over mutants every run calls
        # killed; survivors run the same tests in any order, so theirs is the
        # control for the load's drift.
        kfs = [results[3]["journal"], results[6]["journal"]]
        plains = [results[4]["journal"], results[5]["journal"]]

        def common(verdict):
            return [k for k in kfs[0] if all(j.get(k, {}).get("verdict") == verdict for j in kfs + plains)]

        def total(journals, keys):
            return sum(j[k]["duration_s"] for j in journals for k in keys)

        both, surv = common("killed"), common("survived")
        kf_s, plain_s = total(kfs, both), total(plains, both)
        surv_kf, surv_plain = total(kfs, surv), total(plains, surv)
        counts = {}
        for v in ref["codes"].values():
            counts[realprojects_status(v)] = counts.get(realprojects_status(v), 0) + 1
        subset = (f"mutants of `{'`, `'.join(spec['mutmut']['only_mutate'])}`" if spec["mutmut"].get("only_mutate")
                  else "every mutant") + (f" matching `{' '.join(names)}`" if names else "")
        text = (f"`{spec['name']}=={spec['version']}` from PyPI (sdist SHA-256 `{spec['sha256'][:16]}…`), its own "
                f"tests; {subset}: {len(ref['codes'])} mutants (mutmut: "
                + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + "). `[tool.mutmut]` added: `"
                + json.dumps(spec["mutmut"]) + "`" + (f"; environment `{json.dumps(spec['env'])}` for every tool"
                                                      if spec.get("env") else "")
                + f". `--max-children {self.jobs}`. *prep s* is the wall time minus the mutant phase "
                "(mutants ÷ the tool's own `mutations/second`): mutmut's preparation (mutant generation, stats, "
                "clean run), plus mutcell's zygote warm-up. *prep phases s* (mutcell rows): mutmut's preparation "
                "phases as mutcell ran them (`.mutcell/prepare.json`): import, mutant generation, stats run, "
                "clean run, forced-fail test; after a full stats run the clean run and the forced-fail test "
                "overlap the zygotes' warm-up, so they are not all on the wall. Speed-ups against `mutmut run "
                "(fork)`; *agree* counts mutants whose `.meta` exit code equals `mutmut run (fork)`'s.\n\n")
        text += table(["command", "wall s", "mutants/s", "tool rate /s", "prep s", "prep phases s", "speed-up (wall)",
                       "speed-up (tool rate)", "agree", "exit"], rows)
        text += (f"\n\nKiller-first test order (`collected` with the default `--test-order killer-first` vs "
                 f"`--test-order fastest`, each run twice, in the order with, without, without, with): the "
                 f"{len(both)} mutants every run calls killed took {kf_s:.2f} s vs {plain_s:.2f} s of attempt "
                 f"time summed over both runs ({(1 - kf_s / plain_s) * 100 if plain_s else 0:.0f} % saved); the "
                 f"{len(surv)} survivors (same tests, any order: the control) {surv_kf:.2f} s vs {surv_plain:.2f} s.")
        text += self.attempts_by_verdict(ref, results[1])
        if dis_lines:
            text += "\n\nDisagreements with `mutmut run (fork)` (mutcell's journal verdict and reason):\n\n" + \
                "\n".join(dis_lines[:40]) + (f"\n- ... {len(dis_lines) - 40} more" if len(dis_lines) > 40 else "")
        else:
            text += "\n\nEvery verdict agrees with `mutmut run (fork)`."
        self.section(f"6. Real project: {label}", text)
        for r in results[1:4]:
            self.headlines.append(f"{label}: {r['name']} {ref['wall_s'] / r['wall_s']:.2f}× mutmut run (fork) by wall"
                                  + (f", {r['rate'] / ref['rate']:.2f}× by the mutant phase" if r["rate"] and ref["rate"]
                                     else ""))

    @staticmethod
    def attempts_by_verdict(ref, default):
        """Per-mutant attempt time by verdict, `mutmut run`'s children (its
        .meta durations) against mutcell's default (its journal), over the
        mutants both call killed, and both call survived."""
        rows = []
        for verdict, code in (("killed", 1), ("survived", 0)):
            keys = [k for k, v in ref["codes"].items() if v == code and k in ref["durations"]
                    and default["journal"].get(k, {}).get("verdict") == verdict]
            if not keys:
                continue
            a = [ref["durations"][k] for k in keys]
            b = [default["journal"][k]["duration_s"] for k in keys]
            rows.append([verdict, len(keys), fmt_ms(statistics.median(a)), fmt_ms(statistics.median(b)),
                         f"{statistics.median(a) / statistics.median(b):.2f}×" if statistics.median(b) else "-",
                         f"{sum(a):.2f}", f"{sum(b):.2f}", f"{sum(a) / sum(b):.2f}×" if sum(b) else "-"])
        if not rows:
            return ""
        return ("\n\nPer-mutant attempt time by verdict, `mutmut run (fork)`'s children (`durations_by_key` in "
                "its .meta files) against *mutcell mutmut (default)* (`duration_s` in its journal), over the "
                "mutants both call killed, and both call survived. A survivor runs every one of its tests in "
                "both tools, through the same pytest run protocol; what mutcell saves on it is only the "
                "per-child configuration and collection of `pytest.main`, so the survivors' ratio caps what "
                "the mutant phase as a whole can reach on a project with many survivors.\n\n"
                + table(["verdict", "mutants", "mutmut median ms", "mutcell median ms", "ratio (median)",
                         "mutmut sum s", "mutcell sum s", "ratio (sum)"], rows))

    def real_projects(self):
        for spec in realprojects.PROJECTS:
            self.real_project(spec)

    # ------------------------------------------------------------ 2

    def overhead(self):
        log("per-mutant overhead")
        n_py = self.a.noop_functions
        src = os.path.join(self.work, "noop-src")
        genproject.generate(src, n_py, noop=True)
        rows = []
        zyg = {}
        # The per-test scenario: the same functions, each with K trivial tests,
        # so every mutant runs K tests (a survivor all of them).
        k = self.a.tests_per_mutant
        many_src = os.path.join(self.work, "pertest-src")
        genproject.generate(many_src, n_py, noop=True, tests_per_function=k)
        # Its baseline: 1 test per function, padded with tests no mutant selects
        # to as many items (the zygote's size, and so its children's fork and
        # exit, grow with the collection).
        padded_src = os.path.join(self.work, "padded-src")
        genproject.generate(padded_src, n_py, noop=True, padding_tests=n_py * (k - 1))
        survivors = {}
        # "collected" runs with default settings (no --strategy: the default).
        for s, label, from_src in (("collected", "noop-collected", src), ("pytest-main", "noop-pytest-main", src),
                                   ("collected", "pertest-collected", many_src),
                                   ("collected", "pertest-padded", padded_src)):
            proj = self.copy_project(from_src, label)
            state = os.path.join(proj, ".mutcell")
            argv = [self.mutcell, "mutmut", "--python", self.py, "--max-children", "1", "--state-dir", state]
            if s != "collected":
                argv += ["--strategy", s]
            r = run_in_cgroup(label, argv, proj, self.env, os.path.join(self.work, f"{label}.log"),
                              watcher=deadline_watcher(self.a.run_timeout))
            if r["rc"] != 0:
                self.failures.append(f"overhead: mutcell mutmut ({label}) exited {r['rc']}")
            rep = json.loads(subprocess.run([self.mutcell, "report", "--state-dir", state, "--format", "json"],
                                            capture_output=True, text=True, check=True).stdout)
            if label.startswith("noop-"):
                zyg[s] = [x["duration_s"] for x in rep if x["verdict"] not in ("no_tests", "skipped")]
            survivors[label] = [x["duration_s"] for x in rep if x["verdict"] == "survived"]
            shutil.rmtree(proj, ignore_errors=True)

        # The bare loop: the same venv interpreter, warmed like a zygote (pytest
        # imported, the project's tests collected), forking children that _exit.
        bare_py = os.path.join(self.work, "bare_fork.py")
        with open(bare_py, "w") as f:
            f.write(BARE_FORK_PY)
        out = subprocess.run([self.py, bare_py, src, str(self.a.bare_iterations)], capture_output=True,
                             text=True, cwd=src, env=self.env)
        if out.returncode != 0:
            raise RuntimeError("bare fork loop failed: " + out.stderr[-2000:])
        bare = json.loads(out.stdout.strip().splitlines()[-1])
        # The per-test baseline: pytest's own run protocol (all of pytest's
        # plugins, as in any pytest run) of 1 and of K trivial tests in a
        # forked child of a warm session.
        proto_py = os.path.join(self.work, "bare_protocol.py")
        with open(proto_py, "w") as f:
            f.write(BARE_PROTOCOL_PY)
        out = subprocess.run([self.py, proto_py, many_src, str(k), str(self.a.bare_iterations // 5)],
                             capture_output=True, text=True, cwd=many_src, env=self.env)
        if out.returncode != 0:
            raise RuntimeError("bare protocol loop failed: " + out.stderr[-2000:])
        proto = json.loads(out.stdout.strip().splitlines()[-1])
        # The same loop on the no-op project itself (one test per function,
        # the session mutcell's no-op row forks from), for the floor row.
        out = subprocess.run([self.py, proto_py, src, "1", str(self.a.bare_iterations // 5)],
                             capture_output=True, text=True, cwd=src, env=self.env)
        if out.returncode != 0:
            raise RuntimeError("bare protocol loop (no-op project) failed: " + out.stderr[-2000:])
        proto_noop = json.loads(out.stdout.strip().splitlines()[-1])

        # exec mode: mutcell run of /bin/true vs a C fork+exec+waitpid loop.
        plan_dir = os.path.join(self.work, "exec-true")
        os.makedirs(plan_dir)
        with open(os.path.join(plan_dir, "plan.jsonl"), "w") as f:
            for i in range(self.a.exec_mutants):
                f.write(json.dumps({"id": f"true.{i}", "argv": ["/bin/true"]}) + "\n")
        state = os.path.join(plan_dir, "state")
        r = run_in_cgroup("exec-true", [self.mutcell, "run", "--plan", os.path.join(plan_dir, "plan.jsonl"),
                                        "--state-dir", state, "--jobs", "1"], plan_dir, self.env,
                          os.path.join(self.work, "exec-true.log"), watcher=deadline_watcher(self.a.run_timeout))
        if r["rc"] != 0:
            self.failures.append(f"overhead: mutcell run of /bin/true exited {r['rc']}")
        rep = json.loads(subprocess.run([self.mutcell, "report", "--state-dir", state, "--format", "json"],
                                        capture_output=True, text=True, check=True).stdout)
        exec_d = [x["duration_s"] for x in rep]
        exec_wall = r["wall_s"]
        c_src = os.path.join(self.work, "bare_exec.c")
        with open(c_src, "w") as f:
            f.write(BARE_EXEC_C)
        c_bin = os.path.join(self.work, "bare_exec")
        subprocess.run(["cc", "-O2", "-o", c_bin, c_src], check=True)
        out = subprocess.run([c_bin, str(self.a.bare_iterations)], capture_output=True, text=True, check=True)
        bare_exec = [float(x) for x in out.stdout.split()]

        def row(name, vals, base):
            med, p99 = statistics.median(vals), pct(vals, 99)
            return [name, len(vals), fmt_ms(med), fmt_ms(p99),
                    f"{med / statistics.median(base):.1f}×" if base else "1×"]

        rows.append(row("bare fork + _exit + waitpid (warm venv Python, pytest loaded)", bare["fork_exit"], None))
        rows.append(row("bare fork + run the test in-process + _exit (same interpreter)", bare["fork_test"],
                        bare["fork_exit"]))
        # The floor of any executor that runs a mutant's tests through pytest's
        # run protocol in a forked child: the protocol of one trivial test in
        # a child of a warm session, without mutcell.
        rows.append(row("bare fork + pytest's run protocol of 1 trivial test + _exit (warm session; no mutcell)",
                        proto_noop["fork_1"], bare["fork_exit"]))
        rows.append(row("mutcell: no-op mutant via zygote + cell, default settings (collected)", zyg["collected"],
                        bare["fork_exit"]))
        rows.append(row("mutcell: no-op mutant via zygote + cell, --strategy pytest-main", zyg["pytest-main"],
                        bare["fork_exit"]))
        rows.append(row("bare fork + execv(/bin/true) + waitpid (C)", bare_exec, None))
        rows.append(row("mutcell run, exec mode, /bin/true in a cell (--jobs 1)", exec_d, bare_exec))
        text = ("Per-attempt durations of mutcell from `mutcell report --format json` (`duration_s`: the "
                "attempt from its start to its verdict), one mutant at a time (`--max-children 1` / `--jobs 1`). "
                "The no-op mutants come from a generated project whose tests call the function and assert "
                "nothing. The bare loops time each iteration with a monotonic clock; *ratio* is the median "
                "against the bare loop above it.\n\n")
        text += table(["what", "n", "median ms", "p99 ms", "ratio"], rows)
        floor = statistics.median(proto_noop["fork_1"]) / statistics.median(bare["fork_exit"])
        text += (f"\n\nPage faults per child (median, `ru_minflt` from `wait4`): {statistics.median(bare['fork_exit_faults']):.0f} "
                 f"for the bare fork + `_exit`, {statistics.median(proto_noop['fork_1_faults']):.0f} with pytest's run protocol of one "
                 f"trivial test: the protocol writes reference counts on objects all over the session's heap, and "
                 f"each page it writes is copied for the child (copy-on-write). pytest's protocol in a fork alone is "
                 f"{floor:.1f}× a bare fork + `_exit`, the floor under mutcell's no-op row.")
        text += (f"\n\nmutcell run of {len(exec_d)} `/bin/true` mutants: {exec_wall:.2f} s wall "
                 f"({len(exec_d) / exec_wall:.0f} mutants/s including start-up and the journal).")

        # Per test: (median with K tests - median with 1 test) / (K - 1), survivors only (a killed
        # mutant stops at its first failing test).
        def per_test(many, one):
            return (statistics.median(many) - statistics.median(one)) / (k - 1) if many and one else float("nan")
        base_pt = per_test(proto["fork_k"], proto["fork_1"])
        cell_pt = per_test(survivors["pertest-collected"], survivors["pertest-padded"])
        pt_rows = [
            [f"bare fork + pytest_runtest_protocol of {k} vs 1 trivial tests (pytest's plugins, warm session)",
             f"{len(proto['fork_k'])} + {len(proto['fork_1'])}", f"{base_pt * 1000:.3f}", "1×"],
            [f"mutcell: survivor with {k} vs 1 trivial tests via zygote + cell, default settings (collected)",
             f"{len(survivors['pertest-collected'])} + {len(survivors['pertest-padded'])}", f"{cell_pt * 1000:.3f}",
             f"{cell_pt / base_pt:.2f}×" if base_pt > 0 else "-"],
        ]
        text += ("\n\nPer-test overhead: the same no-op functions with "
                 f"{k} trivial tests each, so a surviving mutant runs {k} tests; *ms per test* is (median with {k} "
                 f"tests − median with 1 test) / {k - 1}, for the bare loop (one warm session of the {k}-test "
                 "project) and for mutcell's surviving mutants (a killed one stops at its first failing test); "
                 "mutcell's 1-test baseline is a project with 1 test per function padded with tests no mutant "
                 "selects to as many items, so both zygotes are the same size.\n\n")
        text += table(["what", "n", "ms per test", "ratio"], pt_rows)
        self.section("2. Per-mutant overhead", text)
        zc = statistics.median(zyg["collected"]) / statistics.median(bare["fork_exit"])
        ze = statistics.median(exec_d) / statistics.median(bare_exec)
        self.headlines.append(f"overhead: zygote+cell (collected) median {fmt_ms(statistics.median(zyg['collected']))} ms "
                              f"= {zc:.1f}× a bare fork+_exit; exec mode {fmt_ms(statistics.median(exec_d))} ms = "
                              f"{ze:.1f}× a bare fork+exec; pytest's protocol of 1 test in a bare fork "
                              f"{fmt_ms(statistics.median(proto_noop['fork_1']))} ms = {floor:.1f}×; per test {cell_pt * 1000:.3f} ms = "
                              f"{cell_pt / base_pt:.2f}× pytest's own run protocol")

    # ------------------------------------------------------------ 3b

    def leaky(self):
        log("leaky: zygote memory with and without recycling")
        src = os.path.join(REPO, "examples", "leaky")
        if not os.path.isdir(src):
            self.section("3b. Zygote memory (leaky)", "examples/leaky is missing: skipped.")
            return
        conf = re.findall(r"^(recycle_\w+\s*=\s*\S+)", open(os.path.join(src, "pyproject.toml")).read(), re.M)
        runs = [(f"mutcell, recycling as configured ({', '.join(conf) or 'defaults'})", []),
                ("mutcell, no recycling (--recycle-growth 0 --recycle-after 0)",
                 ["--recycle-growth", "0", "--recycle-after", "0"])]
        rows = []
        for i, (name, extra) in enumerate(runs):
            proj = self.copy_project(src, f"leaky-{i}")
            state = os.path.join(proj, ".mutcell")
            argv = self.mutcell_mutmut_argv("pytest-main", *extra, state_dir=state)
            r = run_in_cgroup(f"leaky{i}", argv, proj, self.env, os.path.join(self.work, f"leaky-{i}.log"),
                              watcher=deadline_watcher(self.a.run_timeout))
            if r["rc"] != 0:
                self.failures.append(f"leaky: {name} exited {r['rc']}")
            j = read_journal(state)
            zm = [x["zygote_memory_bytes"] for x in j.values() if x.get("zygote_memory_bytes")]
            gens = {x.get("zygote_generation") for x in j.values() if x.get("zygote_generation") is not None}
            rows.append([name, len(j), f"{r['wall_s']:.1f}", len(gens),
                         fmt_size(min(zm) if zm else None), fmt_size(statistics.median(zm) if zm else None),
                         fmt_size(max(zm) if zm else None), fmt_size(r["peak"])])
            shutil.rmtree(proj, ignore_errors=True)
        proj = self.copy_project(src, "leaky-mutmut")
        r = run_in_cgroup("leaky-mm", [os.path.join(os.path.dirname(self.py), "mutmut"), "run", "--max-children",
                                       str(self.jobs)], proj, self.env, os.path.join(self.work, "leaky-mm.log"),
                          watcher=deadline_watcher(self.a.run_timeout))
        codes = read_meta_codes(proj)
        rows.append(["mutmut run (fork): its parent forks every mutant", len(codes), f"{r['wall_s']:.1f}", "-",
                     "-", "-", "-", fmt_size(r["peak"])])
        shutil.rmtree(proj, ignore_errors=True)
        text = ("examples/leaky imports a module whose thread grows the importing process by 256 KiB every "
                "50 ms. *zygote memory* is the zygote's RSS at each fork, as recorded in the journal "
                "(`zygote_memory_bytes`); *generations* counts the zygotes that served mutants. *run peak* is "
                "the whole run's cgroup peak.\n\n")
        text += table(["run", "mutants", "wall s", "generations", "zygote min", "zygote median", "zygote max",
                       "run peak"], rows)
        self.section("3b. Zygote memory across a run (leaky)", text)

    def memory_summary(self, results_by_label):
        rows = []
        for label, results in results_by_label.items():
            for r in results:
                rows.append([label, r["name"], fmt_size(r["peak"]), fmt_size(r["maxrss"])])
        text = ("Peak of the whole run: `memory.max_usage_in_bytes` of a cgroup v1 memory cgroup "
                "`mutcell-bench-*` created below our own memory cgroup around each command (everything it "
                "starts is inside, including mutcell's cells and zygotes; page cache of the files it writes "
                "counts too). *largest RSS* is `ru_maxrss` of the command's process tree as `wait4` reports "
                "it (the largest single process, not a sum).\n\n")
        text += table(["project", "command", "run peak", "largest RSS"], rows)
        self.section("3a. Memory: whole-run peak (from scenario 1's runs)", text)

    # ------------------------------------------------------------ 4

    def runaway(self):
        log("runaway under emulated OOMPolicy=stop")
        src = os.path.join(REPO, "examples", "runaway")
        limit = self.a.oom_limit_gib * GIB
        rows = []
        details = []
        # mutmut run (fork), the seed's setup.
        proj = self.copy_project(src, "runaway-mutmut")
        r = run_in_cgroup("runaway-mm", [os.path.join(os.path.dirname(self.py), "mutmut"), "run",
                                         "--max-children", str(self.jobs)], proj, self.env,
                          os.path.join(self.work, "runaway-mm.log"), limit_bytes=limit,
                          watcher=oompolicy_stop_watcher())
        codes = read_meta_codes(proj)
        recorded = sum(1 for v in codes.values() if v is not None)
        rows.append(["mutmut run (fork)", r["rc"], "yes" if r.get("stopped_by_watcher") else "no",
                     f"{recorded}/{len(codes)}", r["oom_kills"], "-", f"{r['wall_s']:.1f}", fmt_size(r["peak"])])
        if not r.get("stopped_by_watcher"):
            details.append("mutmut run was NOT stopped: no oom_kill was counted (see its log).")
        if r.get("stopped_at_s") is not None:
            details.append(f"mutmut run: oom_kill counted, SIGTERM sent after {r['stopped_at_s']:.1f} s"
                           + ("; still alive after the grace, SIGKILLed" if r.get("sigkill_after_grace") else ""))
        shutil.rmtree(proj, ignore_errors=True)

        proj = self.copy_project(src, "runaway-mutcell")
        state = os.path.join(proj, ".mutcell")
        r = run_in_cgroup("runaway-mc", self.mutcell_mutmut_argv("pytest-main", state_dir=state), proj, self.env,
                          os.path.join(self.work, "runaway-mc.log"), limit_bytes=limit,
                          watcher=oompolicy_stop_watcher())
        codes = read_meta_codes(proj)
        recorded = sum(1 for v in codes.values() if v is not None)
        j = read_journal(state) if os.path.exists(os.path.join(state, "journal.jsonl")) else {}
        ooms = sorted(k for k, v in j.items() if v.get("verdict") == "oom")
        rows.append(["mutcell mutmut", r["rc"], "yes" if r.get("stopped_by_watcher") else "no",
                     f"{recorded}/{len(codes)}", r["oom_kills"], ", ".join(f"`{k}`" for k in ooms) or "none",
                     f"{r['wall_s']:.1f}", fmt_size(r["peak"])])
        if r["rc"] != 0 or r.get("stopped_by_watcher") or not ooms or r["oom_kills"]:
            self.failures.append(f"runaway: mutcell rc {r['rc']}, stopped {r.get('stopped_by_watcher')}, "
                                 f"oom verdicts {ooms}, oom_kills {r['oom_kills']}")
        shutil.rmtree(proj, ignore_errors=True)
        # The real thing, measured in the systemd guest (tests/vm/guest, scenario
        # seed.sh), is kept in bench/guest-seed.md; the emulation below runs here.
        guest_path = os.path.join(HERE, "guest-seed.md")
        text = ""
        if os.path.exists(guest_path):
            text += ("**Under real systemd** (the guest; copied from its `seed.md` result into "
                     "`bench/guest-seed.md`):\n\n" + open(guest_path).read().strip() + "\n\n")
        text += ("**Emulated on this machine** (cgroup v1, no systemd): a watcher stands in for systemd. The "
                 f"harness wraps each run in a cgroup v1 memory cgroup limited to {self.a.oom_limit_gib} GiB "
                 "(memory and memory+swap; the machine has no swap) and polls `memory.oom_control` every 10 ms, "
                 "summing `oom_kill` over that cgroup and every cgroup below it (cgroup v2's `memory.events` that "
                 "systemd reads counts the subtree). At the first OOM kill it sends SIGTERM to every process of "
                 "the run, as systemd does for a unit with `OOMPolicy=stop`, and SIGKILL after 10 s.\n\n")
        text += table(["command (emulated)", "exit", "stopped by watcher", "mutants recorded", "oom_kill",
                       "oom verdicts", "wall s", "run peak"], rows)
        if details:
            text += "\n\n" + "\n".join(f"- {d}" for d in details)
        self.section("4. The seed's failure: runaway under OOMPolicy=stop", text)
        self.headlines.append("runaway: " + "; ".join(
            f"{x[0]} exit {x[1]}, stopped {x[2]}, recorded {x[3]}, oom_kill {x[4]}" for x in rows))

    # ------------------------------------------------------------ 5

    def scale(self):
        n = self.a.scale_mutants
        log(f"scale: {n} mutants")
        d = os.path.join(self.work, "scale")
        os.makedirs(d)
        plan = os.path.join(d, "plan.jsonl")
        with open(plan, "w") as f:
            for i in range(n):
                f.write('{"id": "noop.m%07d", "argv": ["true"]}\n' % i)
        rows = []
        out = subprocess.run([self.a.scale_bench, plan, os.path.join(d, "state")], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"scale_bench failed (exit {out.returncode}): {out.stdout} {out.stderr}")
        sb = json.loads(out.stdout)
        rows.append(["plan load (LoadPlan: parse + SHA-256 fingerprints)", f"{sb['plan_load_s']:.3f}",
                     f"{sb['plan_load_s'] / n * 1e6:.1f}", fmt_size(sb["maxrss_after_plan_kib"] * 1024)])
        rows.append(["journal append (JournalWriter: Open, Append ×N, MarkComplete, Close)",
                     f"{sb['journal_append_s']:.3f}", f"{sb['journal_append_s'] / n * 1e6:.1f}", "-"])
        rows.append([f"journal load (LoadJournal, {sb['journal_bytes'] / MIB:.1f} MiB)",
                     f"{sb['journal_load_s']:.3f}", f"{sb['journal_load_s'] / n * 1e6:.1f}",
                     fmt_size(sb["maxrss_kib"] * 1024)])
        r = run_in_cgroup("scale-resume", [self.mutcell, "run", "--plan", plan, "--state-dir",
                                           os.path.join(d, "state"), "--backend", "none"], d, self.env,
                          os.path.join(self.work, "scale-resume.log"), watcher=deadline_watcher(self.a.run_timeout))
        if r["rc"] != 0:
            self.failures.append(f"scale: resume exited {r['rc']}")
        rows.append(["`mutcell run` resume of the complete journal (whole command: plan + journal + state)",
                     f"{r['wall_s']:.3f}", f"{r['wall_s'] / n * 1e6:.1f}", fmt_size(r["maxrss"])])
        m = self.a.scale_run_mutants
        plan2 = os.path.join(d, "plan-run.jsonl")
        with open(plan2, "w") as f:
            for i in range(m):
                f.write('{"id": "noop.r%07d", "argv": ["true"]}\n' % i)
        r2 = run_in_cgroup("scale-run", [self.mutcell, "run", "--plan", plan2, "--state-dir",
                                         os.path.join(d, "state-run"), "--backend", "none"], d, self.env,
                           os.path.join(self.work, "scale-run.log"), watcher=deadline_watcher(self.a.run_timeout))
        if r2["rc"] != 0:
            self.failures.append(f"scale: run of {m} exited {r2['rc']}")
        rows.append([f"`mutcell run --backend none` of {m} `true` mutants, end to end ({m / r2['wall_s']:.0f}/s)",
                     f"{r2['wall_s']:.3f}", f"{r2['wall_s'] / m * 1e6:.1f}", fmt_size(r2["maxrss"])])
        text = (f"A synthetic plan of {n} no-op mutants (`{{\"id\": ..., \"argv\": [\"true\"]}}`). The first three "
                "rows time mutcell's own code phase by phase (`bench/scale_bench.cc`, linked against "
                "`libmutcell_core.a`); it writes a complete journal (one `survived` record per mutant) which "
                "the real `mutcell run` then resumes with nothing left to do. *memory* is the process's "
                "`ru_maxrss`.\n\n")
        text += table(["phase", "seconds", "µs per mutant", "memory"], rows)
        self.section(f"5. Scale: {n} mutants", text)
        self.headlines.append(f"scale {n}: plan load {sb['plan_load_s']:.2f} s, journal append "
                              f"{sb['journal_append_s']:.2f} s, journal load {sb['journal_load_s']:.2f} s, "
                              f"resume command {r['wall_s']:.2f} s at {fmt_size(r['maxrss'])}")
        shutil.rmtree(d, ignore_errors=True)


BARE_FORK_PY = r'''
import json, os, sys, time
import pytest
src, n = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, os.path.join(src, "src"))
class Grab:
    items = []
    def pytest_collection_modifyitems(self, items):
        Grab.items = list(items)
pytest.main(["-q", "--collect-only", "-p", "no:cacheprovider", os.path.join(src, "tests")], plugins=[Grab()])
import gc
gc.collect(); gc.freeze()
item = Grab.items[0]
fork_exit, fork_test, faults = [], [], []
for _ in range(n):
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    ru = os.wait4(pid, 0)[2]
    fork_exit.append(time.perf_counter() - t)
    faults.append(ru.ru_minflt)
for _ in range(n):
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            item.runtest()
            code = 0
        except BaseException:
            code = 1
        os._exit(code)
    os.waitpid(pid, 0)
    fork_test.append(time.perf_counter() - t)
print(json.dumps({"fork_exit": fork_exit, "fork_test": fork_test, "fork_exit_faults": faults}))
'''

BARE_PROTOCOL_PY = r'''
import gc, json, os, sys, time
import pytest
src, k, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, os.path.join(src, "src"))
def quiet():
    fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 1); os.dup2(fd, 2); os.close(fd)
class Loop:
    out = {}
    def pytest_runtestloop(self, session):
        items, hook = session.items, session.config.hook
        for it in items:
            it.location
        gc.collect(); gc.freeze()
        for name, count in (("fork_1", 1), ("fork_k", k))[:2 if k > 1 else 1]:
            res, faults = [], []
            for r in range(n):
                # A function's tests in a row, as a mutant's are.
                sel = items[(r * k) % len(items):][:k][:count]
                t = time.perf_counter()
                pid = os.fork()
                if pid == 0:
                    quiet()
                    for i, item in enumerate(sel):
                        hook.pytest_runtest_protocol(item=item, nextitem=sel[i + 1] if i + 1 < len(sel) else None)
                    os._exit(1 if session.testsfailed else 0)
                ru = os.wait4(pid, 0)[2]
                res.append(time.perf_counter() - t)
                faults.append(ru.ru_minflt)
            Loop.out[name] = res
            Loop.out[name + "_faults"] = faults
        return True
saved = os.dup(1)
quiet()
pytest.main(["-x", "-q", "-p", "no:randomly", os.path.join(src, "tests")], plugins=[Loop()])
os.dup2(saved, 1)
print(json.dumps(Loop.out))
'''

BARE_EXEC_C = r'''
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  char* args[] = {"/bin/true", NULL};
  for (int i = 0; i < n; i++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid == 0) { execv(args[0], args); _exit(127); }
    int st;
    waitpid(pid, &st, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.9f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
  }
  return 0;
}
'''


def machine_description(args):
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"
    meminfo = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            meminfo[k] = v.strip()
    with open("/proc/self/cgroup") as f:
        cg = f.read().strip()
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    versions = sh(f"{args.python} -c 'import sys, mutmut, pytest; "
                  f"print(\"Python\", sys.version.split()[0], \"mutmut\", mutmut.__version__, \"pytest\", pytest.__version__)'")
    rows = [
        ["CPUs (nproc)", sh("nproc")],
        ["CPU model", sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()],
        ["memory", f"{meminfo.get('MemTotal')} total, swap {meminfo.get('SwapTotal')}"],
        ["kernel", platform.release()],
        ["cgroups", "v1 memory at /sys/fs/cgroup/memory (our cgroup "
                    f"`{(own_memory_cgroup() or '?').replace(MEM_ROOT, '') or '/'}`), v1 pids, "
                    "v2 at /sys/fs/cgroup/unified without a memory controller"
                    if os.path.isdir(MEM_ROOT) else "no v1 memory hierarchy"],
        ["/proc/self/cgroup", "<br>".join(f"`{x}`" for x in cg.splitlines())],
        ["load average at start (1/5/15 min)", " ".join(load)],
        ["source", sh(f"git -C {REPO} rev-parse --short HEAD") + (" plus uncommitted changes"
                                                                  if sh(f"git -C {REPO} status --short -uno") else "")],
        ["tools", f"{versions}; {sh(args.mutcell + ' --version')}"],
    ]
    return rows


def read_old_doc(path):
    """(preamble, headlines, {title: section text}) of an earlier harness
    output."""
    if not os.path.exists(path):
        return "", [], {}
    text = open(path).read()
    parts = re.split(r"^## ", text, flags=re.M)
    preamble = parts[0]
    # A preamble written by an earlier --only run: back to the full run's own.
    preamble = preamble.split("\nSections *", 1)[0]
    heads, sections = [], {}
    for part in parts[1:]:
        title, _, body = part.partition("\n")
        if title == "Headlines":
            heads = [ln[2:] for ln in body.splitlines() if ln.startswith("- ")]
        elif title.startswith("Notes") or title.startswith("Problems"):
            continue
        else:
            sections[title] = "## " + part.rstrip("\n") + "\n"
    return preamble, heads, sections


def write_doc(a, b, machine, started, t0, final):
    """Writes the Markdown file (after every scenario, so a cut-short run leaves its tables)."""
    elapsed = time.monotonic() - t0
    with open("/proc/loadavg") as f:
        load_now = " ".join(f.read().split()[:3])
    rows = machine + [["load average at end" if final else "load average (run in progress)", load_now]]
    notes_path = os.path.join(HERE, "notes.md")
    notes = open(notes_path).read() if os.path.exists(notes_path) and not a.quick else ""
    doc = ["# Benchmarks: mutcell side by side with mutmut", "",
           "Produced by the harness; do not edit by hand (the analysis at the end comes from `bench/notes.md`).", "",
           "Run it with:", "", "```",
           "bench/run.sh            # full: writes docs/benchmarks.md (target: < 15 min on 2 quiet cores)",
           "bench/run.sh --quick    # small sizes, as in CI (ctest -L bench); writes to the build directory",
           "```", "",
           f"This run: `{a.command or ' '.join(sys.argv)}`, started {started.strftime('%Y-%m-%d %H:%M UTC')}, "
           + (f"took {elapsed / 60:.1f} min." if final else f"**in progress** ({elapsed / 60:.1f} min so far)."),
           "",
           "Machine (shared: other engineers were building and testing on it during the run, so absolute "
           "times are noisy; the compared commands ran one after another under the same conditions, never "
           "at the same time):", "",
           table(["", ""], rows), ""]
    if b.old_preamble and b.old_sections:
        # Kept sections came from the earlier run: its description stays, and
        # this run's is added below it for the sections it produced.
        this_run = doc[-7:]
        doc = [b.old_preamble.rstrip("\n"), "",
               "Sections " + ", ".join(f"*{sec.split(chr(10), 1)[0][3:]}*" for sec in b.sections)
               + " (and their headlines) come from a later run with `--only`:", ""] + this_run[1:]
    doc += ["## Headlines", ""]
    new_labels = {h.split(":", 1)[0] for h in b.headlines}
    kept_heads = [h for h in b.old_headlines if h.split(":", 1)[0] not in new_labels]
    doc += ["\n".join(f"- {h}" for h in kept_heads + b.headlines), ""]
    if b.failures:
        doc += ["## Problems seen in this run", "", "\n".join(f"- {f}" for f in b.failures), ""]
    new_titles = {sec.split("\n", 1)[0][3:] for sec in b.sections}
    doc += [sec for title, sec in b.old_sections.items() if title not in new_titles]
    doc += b.sections
    if notes:
        doc += [notes]
    with open(a.out, "w") as f:
        f.write("\n".join(doc).rstrip() + "\n")
    return elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mutcell", required=True)
    p.add_argument("--python", required=True, help="Python with mutmut and pytest (the repo's .venv)")
    p.add_argument("--scale-bench", required=True, help="compiled bench/scale_bench.cc")
    p.add_argument("--out", required=True, help="Markdown file to write")
    p.add_argument("--command", default="", help="the command line to record")
    p.add_argument("--quick", action="store_true", help="small sizes (CI)")
    p.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    p.add_argument("--only", default="", help="comma list of scenarios: 1,2,3,4,5,6")
    p.add_argument("--cache-dir", default=realprojects.default_cache_dir(),
                   help="where scenario 6's sdists are kept (fetched from PyPI when absent)")
    a = p.parse_args()
    # Sizes: the full run must stay under 15 minutes on a 2-core machine.
    a.gen_functions = 3 if a.quick else 92
    a.noop_functions = 4 if a.quick else 20
    a.tests_per_mutant = 10 if a.quick else 50
    a.bare_iterations = 200 if a.quick else 1000
    a.exec_mutants = 100 if a.quick else 1000
    a.scale_mutants = 2000 if a.quick else 100000
    a.scale_run_mutants = 200 if a.quick else 2000
    a.oom_limit_gib = 3
    a.run_timeout = 300 if a.quick else 480
    # 6 (real projects from PyPI) is not part of --quick: it needs the network once and minutes.
    only = set(a.only.split(",")) if a.only else ({"1", "2", "3", "4", "5"} | (set() if a.quick else {"6"}))
    if os.geteuid() != 0 or own_memory_cgroup() is None:
        print("SKIPPED: needs root and a writable cgroup v1 memory hierarchy at /sys/fs/cgroup/memory",
              file=sys.stderr)
        return 77
    # SIGTERM/SIGINT unwind through the finally blocks, which remove our cgroups.
    def on_signal(sig, _frame):
        raise KeyboardInterrupt(f"signal {sig}")
    signal.signal(signal.SIGTERM, on_signal)
    b = Bench(a)
    b.old_preamble, b.old_headlines, b.old_sections = read_old_doc(a.out) if a.only else ("", [], {})
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    machine = machine_description(a)
    log(f"work directory {b.work}")
    try:
        results = {}
        steps = []
        if "2" in only:
            steps.append(b.overhead)
        if "4" in only:
            steps.append(b.runaway)
        if "5" in only:
            steps.append(b.scale)
        if "3" in only:
            steps.append(b.leaky)
        if ("1" in only or "3" in only) and not a.quick:
            steps.append(lambda: results.__setitem__("examples/clean", b.throughput(
                "examples/clean", os.path.join(REPO, "examples", "clean"))))
        if "1" in only or "3" in only:
            def gen_step():
                gen = os.path.join(b.work, "gen-src")
                genproject.generate(gen, a.gen_functions)
                label = f"generated ({a.gen_functions} functions)"
                results[label] = b.throughput(label, gen)
            steps.append(gen_step)
        if "3" in only:
            steps.append(lambda: b.memory_summary(results))
        if "6" in only:
            steps.append(b.real_projects)
        for step in steps:
            step()
            write_doc(a, b, machine, started, t0, final=False)
    finally:
        shutil.rmtree(b.work, ignore_errors=True)
    elapsed = write_doc(a, b, machine, started, t0, final=True)
    log(f"wrote {a.out} in {elapsed / 60:.1f} min")
    print("\nHeadlines:\n" + "\n".join(f"- {h}" for h in b.headlines))
    if b.failures:
        print("\nProblems:\n" + "\n".join(f"- {f}" for f in b.failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""mutmut's preparation, without its mutant loop: what `mutmut run` does before it
forks mutants (generation, type check, stats, clean run, forced-fail check),
done by calling mutmut's own functions in mutmut's order.

    python mutcell_prepare.py --out FILE [--max-children N] [--stage-fd FD] [MUTANT_NAME_OR_GLOB ...]

Runs in the project directory. Writes a JSON summary to FILE:
{"mutmut_version", "clean_run_s", "clean_run_maxrss_bytes", "type_checked",
"stats_run" ("full", "incremental" or "loaded"), "stats_maxrss_bytes" (the
peak before the clean run), "phases_s": {"import", "generate", "type_check",
"stats", "clean_run", "forced_fail"}}.

With --stage-fd, when this process ran mutmut's full stats run (every test,
passing) the mutants/ tree and mutmut's stats are final before the clean run:
one JSON line {"stage": "stats", "stats_maxrss_bytes", "type_checked",
"mutmut_version", "phases_s"} is written to FD and FD closed, so mutcell can
warm its fork server while the clean run and the forced-fail test go on here.
Otherwise (stats loaded from mutmut's cache, or an incremental stats run) FD
is closed only at exit, without a line: the clean run is the first full run of
the tests in this process, and its peak is what sizes the cells. With
--tail-log, what runs after the stage line writes there, and its output is
copied to stderr when it fails.

Exit status: 0 ready; 2 unsupported mutmut version or not a mutmut project;
1 mutmut's own preparation failed (its output says why).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

# The mutmut releases whose private preparation functions mutcell calls.
SUPPORTED = ((3, 8), (3, 8))


def version_tuple(v: str) -> tuple[int, ...]:
    out = []
    for part in v.split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        out.append(int(digits or 0))
    return tuple(out)


def redirect_output(path: str) -> tuple[int, int]:
    """Points fds 1 and 2 at `path`; returns the console's fds."""
    sys.stdout.flush()
    sys.stderr.flush()
    console = (os.dup(1), os.dup(2))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    return console


def restore_output(console: tuple[int, int], path: str, show: bool) -> None:
    """Back to the console; with `show`, what went to `path` first (to stderr)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(console[0], 1)
    os.dup2(console[1], 2)
    os.close(console[0])
    os.close(console[1])
    if show:
        try:
            with open(path, "rb") as f:
                text = f.read()
        except OSError:
            return
        os.write(2, text)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-children", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--stage-fd", type=int, default=-1)
    ap.add_argument("--tail-log", default="",
                    help="after the stage line: the clean run's and forced-fail test's output here, "
                         "copied to stderr only if they fail")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args(argv)
    phases = {}
    mark = time.monotonic()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[name] = round(now - mark, 6)
        mark = now

    try:
        import mutmut
    except ImportError:
        print("mutcell: mutmut is not installed in this Python "
              f"({sys.executable}); install mutmut==3.8.1", file=sys.stderr)
        return 2
    version = mutmut.__version__
    if not (SUPPORTED[0] <= version_tuple(version) <= SUPPORTED[1]):
        print(f"mutcell: mutmut {version} is not supported; mutcell supports mutmut 3.8.x "
              "(pip install mutmut==3.8.1)", file=sys.stderr)
        return 2
    if not any(os.path.exists(f) for f in ("pyproject.toml", "setup.cfg")):
        print(f"mutcell: {os.getcwd()} has no pyproject.toml or setup.cfg: not a mutmut project",
              file=sys.stderr)
        return 2

    from mutmut import __main__ as m
    from mutmut.configuration import config
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths

    phase("import")
    names = tuple(args.names)
    set_mutant_under_test("mutant_generation")
    os.makedirs("mutants", exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    m.store_lines_covered_by_tests()
    m.create_mutants(max(1, args.max_children))
    phase("generate")

    caught_by_type_checker = {}
    if config().type_check_command:
        caught_by_type_checker = m.filter_mutants_with_type_checker()
    phase("type_check")

    runner = m.get_mutant_runner(1)
    # Which stats runs mutmut made here: a full one (every selected test) that
    # passed ran the same tests as the clean run will, in this process.
    stats_runs = []
    collect_stats = runner.collect_stats

    def recording_collect_stats(tests):
        code = collect_stats(tests)
        stats_runs.append((bool(tests), code))
        return code

    runner.collect_stats = recording_collect_stats
    m.collect_or_load_stats(runner, mutants_caught_by_type_checker=caught_by_type_checker,
                            apply_config_invalidation=True)
    runner.collect_stats = collect_stats
    phase("stats")
    stats_run = ("full" if stats_runs == [(False, 0)] else "incremental" if stats_runs else "loaded")
    mutants, by_path = m.collect_source_file_mutation_data(mutant_names=names)
    m._check_test_to_mutant_associations(by_path)

    # Type-check verdicts are mutmut's own (37), recorded as mutmut records them.
    type_checked = 0
    for data, key, result in mutants:
        failed = caught_by_type_checker.get(key)
        if failed and (names or result is None):
            data.exit_code_by_key[key] = 37
            data.type_check_error_by_key[key] = failed.error.error_description
            data.save()
            type_checked += 1

    stats_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    staged = False
    if args.stage_fd >= 0:
        # Everything a fork server reads is written: mutants/, the .meta files
        # and mutmut-stats.json (collect_or_load_stats saved it).
        if stats_run == "full":
            line = {"stage": "stats", "mutmut_version": version, "type_checked": type_checked,
                    "stats_maxrss_bytes": stats_maxrss, "phases_s": phases}
            sys.stdout.flush()
            sys.stderr.flush()
            os.write(args.stage_fd, (json.dumps(line) + "\n").encode())
            staged = True
        os.close(args.stage_fd)

    # Staged, mutcell's own lines go on beside the clean run: its output (and
    # the forced-fail test's spinner) is kept apart, and shown if they fail.
    console = redirect_output(args.tail_log) if staged and args.tail_log else None
    passed = False
    try:
        set_mutant_under_test("")
        start = time.monotonic()
        code = runner.run_clean_tests(tests=m.tests_for_mutant_names(names))
        clean_s = time.monotonic() - start
        phase("clean_run")
        if code != 0:
            print("mutcell: mutmut's clean test run failed (exit code "
                  f"{code}); fix the test suite first", file=sys.stderr)
            return 1
        m.run_forced_fail_test(runner)
        runner.shutdown()
        phase("forced_fail")
        passed = True
    finally:
        if console:
            restore_output(console, args.tail_log, show=not passed)

    summary = {
        "mutmut_version": version,
        "clean_run_s": round(clean_s, 6),
        "clean_run_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "type_checked": type_checked,
        "stats_run": stats_run,
        "stats_maxrss_bytes": stats_maxrss,
        "phases_s": phases,
    }
    with open(args.out, "w") as f:
        json.dump(summary, f)
    return 0


def run() -> int:
    try:
        return main(sys.argv[1:])
    except SystemExit as e:  # mutmut's own exit(1) after its message
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    except BaseException as e:  # mutmut's asserts and exceptions: its own words
        import traceback
        # The traceback once; the closing line names the exception's type only,
        # since its text is already the traceback's last line (and can be kilobytes).
        traceback.print_exc()
        print(f"mutcell: mutmut's preparation failed ({type(e).__name__}; traceback above)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    code = run()
    # The exit handlers (pytest's, logging's flush) run; the interpreter's
    # teardown of every module and object of mutmut, libcst and the tests
    # does not: it wrote nothing, and it took 0.1-0.7 s on the way to the
    # first mutant (mutcell waits for this exit).
    import atexit
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(code)

#!/usr/bin/env python3
"""mutmut's preparation, without its mutant loop: what `mutmut run` does before it
forks mutants (generation, type check, stats, clean run, forced-fail check),
done by calling mutmut's own functions in mutmut's order.

    python mutcell_prepare.py --out FILE [--max-children N] [MUTANT_NAME_OR_GLOB ...]

Runs in the project directory. Writes a JSON summary to FILE:
{"mutmut_version", "clean_run_s", "clean_run_maxrss_bytes", "type_checked"}.
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


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-children", type=int, default=os.cpu_count() or 1)
    ap.add_argument("names", nargs="*")
    args = ap.parse_args(argv)

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

    names = tuple(args.names)
    set_mutant_under_test("mutant_generation")
    os.makedirs("mutants", exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    m.store_lines_covered_by_tests()
    m.create_mutants(max(1, args.max_children))

    caught_by_type_checker = {}
    if config().type_check_command:
        caught_by_type_checker = m.filter_mutants_with_type_checker()

    runner = m.get_mutant_runner(1)
    m.collect_or_load_stats(runner, mutants_caught_by_type_checker=caught_by_type_checker,
                            apply_config_invalidation=True)
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

    set_mutant_under_test("")
    start = time.monotonic()
    code = runner.run_clean_tests(tests=m.tests_for_mutant_names(names))
    clean_s = time.monotonic() - start
    if code != 0:
        print("mutcell: mutmut's clean test run failed (exit code "
              f"{code}); fix the test suite first", file=sys.stderr)
        return 1
    m.run_forced_fail_test(runner)
    runner.shutdown()

    summary = {
        "mutmut_version": version,
        "clean_run_s": round(clean_s, 6),
        "clean_run_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "type_checked": type_checked,
    }
    with open(args.out, "w") as f:
        json.dump(summary, f)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except SystemExit:
        raise
    except BaseException as e:  # mutmut's asserts and exceptions: its own words
        import traceback
        # The traceback once; the closing line names the exception's type only,
        # since its text is already the traceback's last line (and can be kilobytes).
        traceback.print_exc()
        print(f"mutcell: mutmut's preparation failed ({type(e).__name__}; traceback above)", file=sys.stderr)
        sys.exit(1)

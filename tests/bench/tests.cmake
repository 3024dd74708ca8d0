# The benchmark harness at small sizes (bench/run.sh --quick), so it cannot
# rot: every scenario except the examples/clean throughput runs, both tools
# side by side, and the harness fails on a verdict disagreement, a tool error,
# or mutcell not finishing the runaway example. It writes its tables to
# <build>/benchmarks-quick.md, never to docs/. Needs root, the cgroup v1 memory
# hierarchy and the repo's venv; without them it skips (code 77) and says why.
add_test(NAME bench_quick
  COMMAND ${CMAKE_SOURCE_DIR}/bench/run.sh --quick --mutcell $<TARGET_FILE:mutcell>
          --build-dir ${CMAKE_BINARY_DIR} --out ${CMAKE_BINARY_DIR}/benchmarks-quick.md
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(bench_quick PROPERTIES LABELS bench SKIP_RETURN_CODE 77 TIMEOUT 1200 RUN_SERIAL TRUE)

# The real-project part of the harness (bench/realprojects.py), offline on a
# fixture sdist: no network, about a second. The benchmark itself is not a test.
add_test(NAME bench_realprojects_smoke
  COMMAND sh -c "if [ ! -x '${CMAKE_SOURCE_DIR}/.venv/bin/python' ]; then echo 'SKIPPED: ${CMAKE_SOURCE_DIR}/.venv is missing; run ./dev build to create it from scripts/requirements.txt' >&2; exit 77; fi; exec '${CMAKE_SOURCE_DIR}/.venv/bin/python' -m pytest '${CMAKE_SOURCE_DIR}/tests/bench/test_realprojects.py' -q -p no:cacheprovider"
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(bench_realprojects_smoke PROPERTIES LABELS "bench;python" SKIP_RETURN_CODE 77 TIMEOUT 120)

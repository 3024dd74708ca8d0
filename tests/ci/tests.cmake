# examples/ci/: the workflow and manifests parse and their commands work with
# the real binary (check_ci_examples.py, with the venv's PyYAML; skips with code 77 without it),
# and the local simulation of a 4-shard run merges to an unsharded run's
# verdicts (simulate_shards.py). The mutmut workflow (github-actions-mutmut.yml)
# runs its shard steps on examples/runaway with a cancelled and resumed shard (~2 min).
add_test(NAME ci_examples
  COMMAND ${CMAKE_SOURCE_DIR}/.venv/bin/python ${CMAKE_SOURCE_DIR}/tests/ci/check_ci_examples.py --mutcell $<TARGET_FILE:mutcell>
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(ci_examples PROPERTIES LABELS ci SKIP_RETURN_CODE 77 TIMEOUT 900 RUN_SERIAL TRUE)

add_test(NAME ci_shard_simulation
  COMMAND python3 ${CMAKE_SOURCE_DIR}/examples/ci/simulate_shards.py --mutcell $<TARGET_FILE:mutcell>
          --shards 4 --mutants 120 --scale 0.3
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(ci_shard_simulation PROPERTIES LABELS ci TIMEOUT 300 RUN_SERIAL TRUE)

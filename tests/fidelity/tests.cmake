# The strategies against `mutmut run` on projects built for it
# (tests/fidelity, docs/strategies.md): real pytest and mutmut from the
# project's venv. About 60 s. Skips loudly (code 77) without the venv.
add_test(NAME fidelity_e2e
  COMMAND sh -c "if [ ! -x '${CMAKE_SOURCE_DIR}/.venv/bin/python' ]; then echo 'SKIPPED: ${CMAKE_SOURCE_DIR}/.venv is missing; run ./dev build to create it from scripts/requirements.txt' >&2; exit 77; fi; exec '${CMAKE_SOURCE_DIR}/.venv/bin/python' -m pytest '${CMAKE_SOURCE_DIR}/tests/fidelity/test_fidelity.py' -q -p no:cacheprovider -rs"
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(fidelity_e2e PROPERTIES LABELS e2e SKIP_RETURN_CODE 77 TIMEOUT 900
  ENVIRONMENT "MUTCELL_BINARY=$<TARGET_FILE:mutcell>")

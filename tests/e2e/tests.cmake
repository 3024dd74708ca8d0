# End-to-end tests of `mutcell mutmut` against real `mutmut run` (pytest and
# mutmut from the project's venv, which `./dev` creates). Skips loudly (code
# 77) without the venv.
add_test(NAME mutmut_e2e
  COMMAND sh -c "if [ ! -x '${CMAKE_SOURCE_DIR}/.venv/bin/python' ]; then echo 'SKIPPED: ${CMAKE_SOURCE_DIR}/.venv is missing; run ./dev build to create it from scripts/requirements.txt' >&2; exit 77; fi; exec '${CMAKE_SOURCE_DIR}/.venv/bin/python' -m pytest '${CMAKE_SOURCE_DIR}/tests/e2e' -q -p no:cacheprovider -rs"
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(mutmut_e2e PROPERTIES LABELS e2e SKIP_RETURN_CODE 77 TIMEOUT 1800
  ENVIRONMENT "MUTCELL_BINARY=$<TARGET_FILE:mutcell>;MUTCELL_REPORT_SCHEMA=${MUTCELL_REPORT_SCHEMA}")

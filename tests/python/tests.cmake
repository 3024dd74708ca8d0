# Python tests (the zygote): run with the project's venv, which `./dev`
# creates from scripts/requirements.txt. Without the venv the test skips
# (ctest code 77) and says why.
add_test(NAME python_tests
  COMMAND sh -c "if [ ! -x '${CMAKE_SOURCE_DIR}/.venv/bin/python' ]; then echo 'SKIPPED: ${CMAKE_SOURCE_DIR}/.venv is missing; run ./dev build to create it from scripts/requirements.txt' >&2; exit 77; fi; exec '${CMAKE_SOURCE_DIR}/.venv/bin/python' -m pytest '${CMAKE_SOURCE_DIR}/tests/python' -q -p no:cacheprovider"
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(python_tests PROPERTIES LABELS python SKIP_RETURN_CODE 77 TIMEOUT 600)

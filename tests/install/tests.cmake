# mutcell as users install it (tests/install/check_install.py): the binary
# needs only glibc (ldd); the wheel (built by scripts/make-wheel.sh into
# <build>/wheel-build, so reruns are incremental; a first build compiles
# mutcell once more, ~2-4 min on 2 cores without ccache) installed into a fresh venv
# with mutmut and pytest from PyPI, and the release tarball, each run on a
# copy of examples/runaway while the source and build trees are hidden
# (unshare -m, tmpfs over them). Wheel and tarball need root (unshare, cells):
# without it they skip (code 77) and say why.
add_test(NAME install_ldd
  COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/check_install.py ldd --mutcell $<TARGET_FILE:mutcell>)
set_tests_properties(install_ldd PROPERTIES LABELS install)

add_test(NAME install_wheel
  COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/check_install.py wheel --source ${CMAKE_SOURCE_DIR} --build ${CMAKE_BINARY_DIR})
set_tests_properties(install_wheel PROPERTIES LABELS install SKIP_RETURN_CODE 77 TIMEOUT 1800 RUN_SERIAL TRUE)

add_test(NAME install_tarball
  COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/check_install.py tarball --source ${CMAKE_SOURCE_DIR} --build ${CMAKE_BINARY_DIR})
set_tests_properties(install_tarball PROPERTIES LABELS install SKIP_RETURN_CODE 77 TIMEOUT 600 RUN_SERIAL TRUE)

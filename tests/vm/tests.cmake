# The cgroup v2 backend on a real v2 kernel: run-vm-tests.sh boots Debian's
# kernel under qemu (TCG) from an initramfs holding the integration tests, runs
# the cell tests there (cgroup2 only, memory and pids enabled, a swap device)
# and exits 0/1, or 77 when qemu cannot run here at all (a skip, not a pass).
# Booting the v1 hierarchy instead: run-vm-tests.sh --cgroup v1 (not registered).
if(TARGET mutcell_integration_tests)
  add_test(NAME vm_cgroup_v2
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/run-vm-tests.sh --build-dir ${CMAKE_BINARY_DIR})
  set_tests_properties(vm_cgroup_v2 PROPERTIES
    SKIP_RETURN_CODE 77 LABELS vm TIMEOUT 300 RUN_SERIAL TRUE)
endif()

# The systemd guest (tests/vm/guest): a Debian 12 image built by mmdebstrap
# (cached in /var/cache/mutcell-guest), systemd as PID 1, cgroup v2 only, the
# user runner with sudo; mutcell installed from its wheel (ctest-guest.sh). Runs the
# seed (mutmut run vs mutcell mutmut in a MemoryMax unit), mutcell mutmut end
# to end (recycling, budget, SIGKILL + resume, verdicts equal to mutmut's) and
# the CI job's steps. 0 pass, 1 fail, 77 qemu or the kernel cannot run here.
if(TARGET mutcell)
  add_test(NAME vm_systemd_guest
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/guest/ctest-guest.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(vm_systemd_guest PROPERTIES
    SKIP_RETURN_CODE 77 LABELS vm TIMEOUT 1600 RUN_SERIAL TRUE)
endif()

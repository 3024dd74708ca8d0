#!/usr/bin/env bash
# Runs mutcell's cell integration tests on a real cgroup v2 kernel: boots
# Debian's kernel (linux-image-amd64) under qemu from an initramfs built here
# and now (busybox-static, the test binaries, the helpers, mutcell if built, and
# every shared library ldd names), with the cgroup2 hierarchy only, the memory
# and pids controllers enabled and a 256 MiB swap device (a RAM disk, brd), so
# memory.swap.max=0 has something to deny; a second RAM disk (/dev/ram1) is
# there to be read through the page cache. The guest prints the gtest output
# and a PASS/FAIL marker on the serial console and powers off.
#
#   tests/vm/run-vm-tests.sh --build-dir DIR [--cgroup v2|v1] [--filter GTEST_FILTER]
#                            [--timeout SECONDS] [--keep] [--extra FILE]... [--guest-cmd CMD]
#
# --cgroup v1 boots the legacy hierarchy instead (memory and pids on v1, an
# empty cgroup2 at /sys/fs/cgroup/unified), for hosts whose own cgroups are
# read-only. For debugging: --extra copies more host binaries (with their
# libraries) into the guest, --guest-cmd runs CMD (sh -c) instead of the tests,
# --keep keeps the work directory. Exit status: 0 pass, 1 fail, 77 qemu cannot run here at all
# (missing qemu, kernel, busybox-static or cpio; ctest reports a skip).
#
# TCG, not KVM: on the team's machines /dev/kvm exists but a KVM guest hangs
# right after the firmware. MUTCELL_VM_ACCEL=kvm overrides.
set -uo pipefail

build=""
mode=v2
filter=""
timeout_s=270
keep=0
extras=()
guest_cmd=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --cgroup) mode=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --extra) extras+=("$2"); shift 2 ;;
    --guest-cmd) guest_cmd=$2; shift 2 ;;
    *) echo "run-vm-tests: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$build" ] || { echo "run-vm-tests: --build-dir is required" >&2; exit 2; }
build=$(cd "$build" && pwd) || exit 2
case "$mode" in v1|v2) ;; *) echo "run-vm-tests: --cgroup must be v1 or v2" >&2; exit 2 ;; esac
if [ -z "$filter" ]; then
  # The backend-generic cell tests for the booted hierarchy's backend and the
  # v2-only ones. Left out: the none backend (nothing in it depends on the
  # cgroup version; the host runs it), the cost measurements (TCG timings say
  # nothing about real machines) and CellTest.ForkBomb*: under TCG its 32
  # processes retrying fork every millisecond plus a /proc scan per tick take
  # 60-125 s. The v2 process limit is covered here by
  # CellV2Test.PidsLimitStopsAForkBomb and the fork bomb of CellV2EndToEndTest.
  if [ "$mode" = v2 ]; then
    filter='Backends/CellTest.*/v2:Backends/CellCpuControlTest.*/v2:CellV2*:ZygoteCellTest.ANative*-*Measure*:*ForkBomb*/*'
  else
    filter='Backends/CellTest.*/v1:Backends/CellCpuControlTest.*/v1:ZygoteCellTest.ANative*-*Measure*:*ForkBomb*/*'
  fi
fi

skip() { echo "run-vm-tests: SKIP: $*" >&2; exit 77; }
fail() { echo "run-vm-tests: FAIL: $*" >&2; exit 1; }

# --- What the host must have; without it qemu cannot run at all (skip). ---
qemu=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not installed (Debian: qemu-system-x86)"
command -v cpio >/dev/null || skip "cpio not installed"
kernel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] || skip "no /boot/vmlinuz-*-amd64 (Debian: linux-image-amd64)"
[ -r "$kernel" ] || skip "$kernel is not readable (run as root)"
kver=${kernel#/boot/vmlinuz-}
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
  if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox=$b; break; fi
done
[ -n "$busybox" ] || skip "no statically linked busybox (Debian: busybox-static)"

tests_bin=$build/mutcell_integration_tests
[ -x "$tests_bin" ] || fail "$tests_bin is not built"

work=$(mktemp -d /tmp/mutcell-vm.XXXXXX)
cleanup() { [ "$keep" = 1 ] && echo "run-vm-tests: kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,lib/modules,run}

# --- Binaries at their host paths (the tests find helpers and mutcell through
# paths compiled in), plus their shared libraries and the dynamic loader. ---
copy_with_libs() {
  local f=$1
  mkdir -p "$root$(dirname "$f")"
  cp -L "$f" "$root$f"
  ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^[[:space:]]*\//{print $1}' | while read -r lib; do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}
cp "$busybox" "$root/bin/busybox"
copy_with_libs "$tests_bin"
shipped="mutcell_integration_tests"
for f in "$build"/helpers/* "$build/mutcell" "${extras[@]}"; do
  [ -f "$f" ] && [ -x "$f" ] || continue
  copy_with_libs "$f"
  shipped="$shipped $(basename "$f")"
done

# brd gives the guest a swap device; Debian may compress its modules.
brd=$(ls /lib/modules/"$kver"/kernel/drivers/block/brd.ko* 2>/dev/null | head -n 1)
case "$brd" in
  *.ko) cp "$brd" "$root/lib/modules/brd.ko" ;;
  *.ko.xz) xz -dc "$brd" >"$root/lib/modules/brd.ko" ;;
  *.ko.zst) zstd -qdc "$brd" >"$root/lib/modules/brd.ko" ;;
  *) echo "run-vm-tests: no brd module for $kver: the guest will have no swap" >&2 ;;
esac

# --- The guest's /init. ---
printf '%s' "$guest_cmd" >"$root/guest_cmd"
cat >"$root/init" <<EOF
#!/bin/busybox sh
guest_cmd=\$(/bin/busybox cat /guest_cmd)
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/tmp TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# No tmpfs over /tmp: the initramfs root is already in memory, and the test
# binaries sit at their host paths, which may be under /tmp (a CI clone).
chmod 1777 /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
echo "MUTCELL-VM: kernel \$(uname -r), userspace up at \$(cut -d' ' -f1 /proc/uptime) s"
if [ "$mode" = v2 ]; then
  mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
  echo "+memory +pids" >/sys/fs/cgroup/cgroup.subtree_control
  echo "MUTCELL-VM: cgroup2 controllers: \$(cat /sys/fs/cgroup/cgroup.subtree_control)"
  export MUTCELL_REQUIRE_V2=1
else
  mount -t tmpfs cgroup /sys/fs/cgroup
  for c in memory pids cpu,cpuacct; do
    mkdir -p /sys/fs/cgroup/\$c && mount -t cgroup -o \$c cgroup /sys/fs/cgroup/\$c
  done
  mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
  echo 1 >/sys/fs/cgroup/memory/memory.use_hierarchy 2>/dev/null
  echo "MUTCELL-VM: cgroup v1 hierarchies: \$(ls /sys/fs/cgroup | tr '\n' ' ')"
  export MUTCELL_REQUIRE_V1=1
fi
if [ -f /lib/modules/brd.ko ] && insmod /lib/modules/brd.ko rd_nr=2 rd_size=262144 &&
   mkswap /dev/ram0 >/dev/null && swapon /dev/ram0; then
  echo "MUTCELL-VM: swap: \$(tail -n +2 /proc/swaps)"
else
  echo "MUTCELL-VM: no swap device"
fi
echo "MUTCELL-VM: running $tests_bin --gtest_filter='$filter'"
start=\$(cut -d' ' -f1 /proc/uptime)
cd /tmp
if [ -n "\$guest_cmd" ]; then
  sh -c "\$guest_cmd" 2>&1
else
  "$tests_bin" --gtest_filter='$filter' --gtest_color=no 2>&1
fi
rc=\$?
echo "MUTCELL-VM: tests took \$(awk -v a=\$start -v b=\$(cut -d' ' -f1 /proc/uptime) 'BEGIN{print b-a}') s"
echo "MUTCELL-VM: left in the hierarchy: \$(find /sys/fs/cgroup -mindepth 1 -type d -name 'mutcell-*' | tr '\n' ' ')"
if [ \$rc -eq 0 ]; then echo "MUTCELL-VM-RESULT: PASS"; else echo "MUTCELL-VM-RESULT: FAIL (exit \$rc)"; fi
sync
poweroff -f
EOF
chmod +x "$root/init"

# Uncompressed: under TCG the kernel's gunzip costs more than reading the bytes.
(cd "$root" && find . | cpio -o -H newc --quiet) >"$work/initrd.cpio" || fail "cpio failed"

accel=${MUTCELL_VM_ACCEL:-tcg}
append="console=ttyS0 quiet panic=-1 oops=panic"
if [ "$mode" = v2 ]; then
  append="$append cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
else
  append="$append systemd.unified_cgroup_hierarchy=0"
fi
echo "run-vm-tests: $kernel ($mode, $accel) with $(du -m "$work/initrd.cpio" | cut -f1) MiB initramfs: $shipped"
log=$work/console.log
t0=$(date +%s.%N)
timeout --kill-after=5 "$timeout_s" "$qemu" -accel "$accel" -smp 2 -m 2G -nographic -no-reboot \
  -kernel "$kernel" -initrd "$work/initrd.cpio" -append "$append" </dev/null >"$log" 2>&1
qrc=$?
t1=$(date +%s.%N)
# Strip the firmware's terminal escapes; keep everything else for ctest's output.
sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' "$log"
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
echo "run-vm-tests: qemu exit $qrc after $elapsed s"

if ! grep -q 'MUTCELL-VM:' "$log"; then
  if [ $qrc -eq 124 ] || grep -qE 'Linux version|Kernel panic|Run /init' "$log"; then
    fail "the guest never reached /init (see the console above)"
  fi
  skip "qemu could not start a guest here (exit $qrc)"
fi
if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then fail "the guest did not finish within $timeout_s s"; fi
grep -q 'MUTCELL-VM-RESULT: PASS' "$log" || fail "tests failed in the guest"
# A skipped test of the backend under test means it did not really run.
if grep -E '^\[  SKIPPED \] ' "$log" | grep -qE "/$mode\b|CellV2"; then
  fail "tests of the $mode backend were skipped in the guest"
fi
echo "run-vm-tests: PASS ($mode, kernel $kver, $elapsed s boot to result)"
exit 0

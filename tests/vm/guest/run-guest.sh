#!/usr/bin/env bash
# Boots the systemd guest (build-image.sh: Debian 12, systemd as PID 1, cgroup
# v2 only, no swap, user `runner` with passwordless sudo) with the host's
# Debian kernel under qemu (TCG), installs mutcell there the way a user does
# and runs scenario scripts, each in a system service of its own as the given
# user; their results come back through the payload share (9p).
#
#   tests/vm/guest/run-guest.sh (--build-dir DIR | --wheel FILE)
#       [--scenario FILE[:USER]]... [--out DIR] [--timeout SECONDS] [--keep]
#
# --build-dir: mutcell is `cmake --install DIR --prefix <staging>`, copied
# into the guest's venv (bin/mutcell, share/mutcell). --wheel: `pip install
# FILE` into the guest's venv. --scenario (repeatable; default: the ctest set,
# scenarios/seed.sh, e2e.sh, ci.sh, nonroot.sh, leftover.sh and pidns.sh): a bash script run as USER (default
# runner) with PAYLOAD, RESULTS, VENV, WHEELS in its environment (see
# guest-run.sh); the repo's examples/ are in $PAYLOAD/examples. --out: where
# the results go (default: a temporary directory, removed unless --keep):
# <out>/results/<scenario name>/{rc,seconds,...}.
# Exit status: 0 every scenario exited 0, 1 otherwise, 77 qemu or the kernel
# cannot run here at all (ctest reports a skip).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
build=""
wheel=""
scenarios=()
out=""
timeout_s=1500
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --wheel) wheel=$2; shift 2 ;;
    --scenario) scenarios+=("$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "run-guest: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$build$wheel" ] || { echo "run-guest: --build-dir or --wheel is required" >&2; exit 2; }
[ ${#scenarios[@]} -gt 0 ] || scenarios=("$here/scenarios/seed.sh" "$here/scenarios/e2e.sh" "$here/scenarios/ci.sh" "$here/scenarios/nonroot.sh" "$here/scenarios/leftover.sh" "$here/scenarios/pidns.sh")

skip() { echo "run-guest: SKIP: $*" >&2; exit 77; }
fail() { echo "run-guest: FAIL: $*" >&2; exit 1; }

# --- What the host must have; without it the guest cannot run at all (skip). ---
qemu=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not installed (Debian: qemu-system-x86)"
kernel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] || skip "no /boot/vmlinuz-*-amd64 (Debian: linux-image-amd64)"
[ -r "$kernel" ] || skip "$kernel is not readable (run as root)"
kver=${kernel#/boot/vmlinuz-}
initrd=/boot/initrd.img-$kver
[ -r "$initrd" ] || skip "no readable $initrd (Debian: initramfs-tools)"
[ "$(id -u)" -eq 0 ] || skip "building the guest image needs root (mmdebstrap, chroot)"
command -v mmdebstrap >/dev/null || skip "mmdebstrap not installed (Debian: mmdebstrap; ./dev installs it)"

t_start=$(date +%s.%N)
image_dir=$("$here/build-image.sh") || fail "the guest image could not be built"
t_image=$(date +%s.%N)

if [ -n "$out" ]; then
  mkdir -p "$out" && work=$(cd "$out" && pwd)
else
  work=$(mktemp -d /tmp/mutcell-guest.XXXXXX)
  cleanup() { [ "$keep" = 1 ] && echo "run-guest: kept $work" >&2 || rm -rf "$work"; }
  trap cleanup EXIT
fi
share=$work/share
rm -rf "$share" && mkdir -p "$share/scenarios"

# --- The payload: mutcell, the examples, the scenarios. ---
if [ -n "$wheel" ]; then
  [ -f "$wheel" ] || fail "no wheel $wheel"
  mkdir -p "$share/mutcell-wheel" && cp "$wheel" "$share/mutcell-wheel/"
else
  [ -x "$build/mutcell" ] || fail "$build/mutcell is not built"
  cmake --install "$build" --prefix "$share/mutcell-prefix" >/dev/null || fail "cmake --install $build failed"
fi
cp -r "$repo/examples" "$share/examples"
rm -rf "$share"/examples/*/mutants "$share"/examples/*/.mutcell
: >"$share/scenarios.list"
for s in "${scenarios[@]}"; do
  file=${s%%:*}
  user=runner
  [ "$file" != "$s" ] && user=${s#*:}
  [ -f "$file" ] || fail "no scenario file $file"
  name=$(basename "$file" .sh)
  cp "$file" "$share/scenarios/$name.sh"
  # Helpers a scenario may source: $PAYLOAD/scenarios/lib.sh.
  echo "$name $user $name.sh" >>"$share/scenarios.list"
done
cp "$here/scenarios/lib.sh" "$share/scenarios/lib.sh"
cp "$here/guest-run.sh" "$share/guest-run.sh"
chmod -R a+rX "$share"

# --- Boot. TCG, not KVM: on the team's machines a KVM guest hangs after the
# firmware (MUTCELL_VM_ACCEL=kvm overrides). The disk is a snapshot: the
# cached image is never written. ---
accel=${MUTCELL_VM_ACCEL:-tcg}
mem=${MUTCELL_GUEST_MEM:-3G}
append="root=/dev/vda rw rootfstype=ext4 console=ttyS0 quiet panic=-1 random.trust_cpu=on"
append="$append systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all systemd.show_status=error"
log=$work/console.log
echo "run-guest: $kernel ($accel, 2 CPUs, $mem) with $image_dir/rootfs.img: $(cut -d' ' -f1 "$share/scenarios.list" | tr '\n' ' ')"
t0=$(date +%s.%N)
timeout --kill-after=5 "$timeout_s" "$qemu" -accel "$accel" -smp 2 -m "$mem" -nographic -no-reboot \
  -kernel "$kernel" -initrd "$initrd" -append "$append" \
  -drive file="$image_dir/rootfs.img",format=raw,if=virtio,snapshot=on \
  -virtfs local,path="$share",mount_tag=mutcell,security_model=none,id=mutcell \
  -device virtio-rng-pci -net none </dev/null >"$log" 2>&1
qrc=$?
t1=$(date +%s.%N)
sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' -e 's/\r$//' "$log"
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
echo "run-guest: image $(secs "$t_start" "$t_image") s, qemu exit $qrc after $(secs "$t0" "$t1") s"

if ! grep -q 'MUTCELL-GUEST:' "$log"; then
  if [ $qrc -eq 124 ] || grep -qE 'Linux version|Kernel panic|systemd' "$log"; then
    fail "the guest never reached its scenario service (see the console above)"
  fi
  skip "qemu could not start a guest here (exit $qrc)"
fi
grep -q 'MUTCELL-GUEST: RESULT: DONE' "$log" || fail "the guest did not finish its scenarios within $timeout_s s"
status=0
while read -r name _ _; do
  rc=$(cat "$share/results/$name/rc" 2>/dev/null || echo missing)
  echo "run-guest: scenario $name: exit $rc ($(cat "$share/results/$name/seconds" 2>/dev/null) s)"
  [ "$rc" = 0 ] || status=1
done <"$share/scenarios.list"
echo "run-guest: results in $share/results"
[ $status -eq 0 ] && echo "run-guest: PASS" || echo "run-guest: FAIL"
exit $status

#!/usr/bin/env bash
# Builds (or finds in the cache) the systemd guest's disk image: a Debian 12
# root file system made by mmdebstrap from Debian packages (packages.txt), with
# systemd as PID 1, a user `runner` (uid 1001, passwordless sudo, lingering
# user manager, as on GitHub's runners), a venv /home/runner/venv holding the
# pinned Python packages of scripts/requirements.txt from wheels downloaded on
# this host (the guest has no network; the wheels stay in /opt/wheels), the
# host kernel's modules (the guest boots that kernel) and the boot service
# that runs the test scenarios (guest-run.sh, read from the payload share).
#
#   tests/vm/guest/build-image.sh          prints the image's directory
#
# The image is an ext4 file made with `mke2fs -d` (no loop mounts), cached in
# $MUTCELL_GUEST_CACHE (default /var/cache/mutcell-guest)/<key>/rootfs.img,
# <key> a hash of everything that goes into it, so reruns skip the build.
# Needs root (mmdebstrap's root mode, chroot) and network to the Debian
# mirror and PyPI. Exit status: 0 built or cached, 1 failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cache_root=${MUTCELL_GUEST_CACHE:-/var/cache/mutcell-guest}
mirror=${MUTCELL_GUEST_MIRROR:-http://deb.debian.org/debian}
req=$repo/scripts/requirements.txt

kernel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] || { echo "build-image: no /boot/vmlinuz-*-amd64" >&2; exit 1; }
kver=${kernel#/boot/vmlinuz-}
[ -d "/lib/modules/$kver" ] || { echo "build-image: no /lib/modules/$kver" >&2; exit 1; }

packages=$(grep -v '^[[:space:]]*\(#\|$\)' "$here/packages.txt" | tr -s ' \n' ',' | sed 's/,$//')
key=$( (cat "$here/packages.txt" "$here/build-image.sh" "$req"; echo "$kver $mirror") | sha256sum | cut -c1-16)
dir=$cache_root/$key
if [ -f "$dir/done" ]; then
  echo "build-image: cached $dir" >&2
  echo "$dir"
  exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9  # two runs at once build it once
if [ -f "$dir/done" ]; then echo "$dir"; exit 0; fi
t0=$(date +%s)
tmp=$(mktemp -d "$cache_root/build.XXXXXX")
trap 'rm -rf --one-file-system "$tmp"' EXIT
root=$tmp/root

# --- Wheels for the guest's Python (Debian 12: CPython 3.11, glibc 2.36). ---
pip=$repo/.venv/bin/pip
[ -x "$pip" ] || pip="python3 -m pip"
echo "build-image: downloading wheels of $req" >&2
$pip download -q --disable-pip-version-check --only-binary=:all: --python-version 3.11 \
  --implementation cp --abi cp311 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform manylinux_2_28_x86_64 --platform linux_x86_64 -r "$req" -d "$tmp/wheels" >&2

# --- The root file system. ---
echo "build-image: mmdebstrap bookworm ($packages)" >&2
mmdebstrap --quiet --variant=minbase --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  bookworm "$root" "$mirror" >&2

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
echo guest >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 guest\n' >"$root/etc/hosts"  # sudo resolves its host name
: >"$root/etc/fstab"
# A fixed machine id: with none, every boot of the (snapshot) disk is a first
# boot and systemd applies all presets again, which costs time under TCG.
echo "$key$key" >"$root/etc/machine-id"
in_root useradd --create-home --uid 1001 --user-group --shell /bin/bash runner
echo 'runner ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/runner"
chmod 0440 "$root/etc/sudoers.d/runner"
# GitHub's images keep a user manager for the runner (lingering).
mkdir -p "$root/var/lib/systemd/linger" && touch "$root/var/lib/systemd/linger/runner"

# Python: the pinned packages from the host's wheels, offline.
mkdir -p "$root/opt/wheels"
cp "$tmp"/wheels/* "$root/opt/wheels/"
cp "$req" "$root/opt/wheels/requirements.txt"
in_root runuser -u runner -- python3 -m venv /home/runner/venv
in_root runuser -u runner -- /home/runner/venv/bin/pip install -q --disable-pip-version-check \
  --no-index --find-links /opt/wheels -r /opt/wheels/requirements.txt >&2

# The host kernel's modules the guest needs (9p for the payload share, the
# virtio and file system drivers are in the host's initrd as well).
mkdir -p "$root/lib/modules/$kver/kernel"
cp /lib/modules/"$kver"/modules.order /lib/modules/"$kver"/modules.builtin* "$root/lib/modules/$kver/"
for d in fs net/9p drivers/block drivers/virtio drivers/char/hw_random lib crypto arch; do
  [ -d "/lib/modules/$kver/kernel/$d" ] || continue
  mkdir -p "$root/lib/modules/$kver/kernel/$(dirname "$d")"
  cp -a "/lib/modules/$kver/kernel/$d" "$root/lib/modules/$kver/kernel/$d"
done
in_root depmod "$kver" 2>/dev/null || true

# The boot service: mounts the payload share and runs the guest-run.sh found
# there (so changing it needs no new image). No login prompt on the console.
cat >"$root/usr/local/sbin/mutcell-guest-boot" <<'BOOT'
#!/bin/sh
mkdir -p /mnt/payload
modprobe 9pnet_virtio 2>/dev/null
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 mutcell /mnt/payload &&
   [ -f /mnt/payload/guest-run.sh ]; then
  exec /bin/bash /mnt/payload/guest-run.sh
fi
echo "MUTCELL-GUEST: RESULT: FAIL (no payload share with guest-run.sh)"
sync
systemctl poweroff -ff
BOOT
chmod 0755 "$root/usr/local/sbin/mutcell-guest-boot"
cat >"$root/etc/systemd/system/mutcell-guest.service" <<'UNIT'
[Unit]
Description=mutcell guest scenarios (tests/vm/guest/guest-run.sh from the payload share)
After=multi-user.target user@1001.service systemd-user-sessions.service dbus.service

[Service]
Type=simple
ExecStart=/usr/local/sbin/mutcell-guest-boot
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
UNIT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/mutcell-guest.service "$root/etc/systemd/system/multi-user.target.wants/"
for u in serial-getty@ttyS0.service getty@tty1.service apt-daily.timer apt-daily-upgrade.timer \
         e2scrub_reap.service fstrim.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* "$root/root/.cache" "$root/home/runner/.cache"

# --- The ext4 image: the files plus room for the tests' work. ---
used=$(du -sm "$root" | cut -f1)
size=$((used + used / 4 + 1024))
mkdir -p "$tmp/out"
mke2fs -q -t ext4 -L mutcell-guest -d "$root" -F "$tmp/out/rootfs.img" "${size}M" >&2
echo "kernel $kver; packages: $packages" >"$tmp/out/manifest"
ls "$tmp/wheels" >>"$tmp/out/manifest"
t1=$(date +%s)
echo "built in $((t1 - t0)) s, $used MiB of files, ${size} MiB image" >>"$tmp/out/manifest"
touch "$tmp/out/done"
rm -rf "$dir"
mv "$tmp/out" "$dir"
# Keep the three newest images (other checkouts may use other keys).
ls -dt "$cache_root"/*/done 2>/dev/null | tail -n +4 | while read -r old; do rm -rf "$(dirname "$old")"; done
echo "build-image: built $dir in $((t1 - t0)) s ($used MiB of files, ${size} MiB image)" >&2
echo "$dir"

#!/bin/bash
# The guest's side of run-guest.sh, run at boot (as root) by the image's
# mutcell-guest.service from the payload share (9p, tag `mutcell`): installs mutcell the way
# a user does (`pip install` of a wheel into /home/runner/venv, or the files of
# `cmake --install` copied into that venv), runs each scenario listed in
# scenarios.list ("<name> <user> <file>") in a system service of its own as
# that user (like GitHub's runner service runs a job's steps), copies its
# results back to the share and powers off.
#
# A scenario is a bash script. It gets: PAYLOAD (the share, read-only use),
# RESULTS (a directory of its own; copied back), VENV (/home/runner/venv,
# mutcell installed in it), WHEELS (/opt/wheels, the pinned wheels), PATH with
# $VENV/bin first. Its exit status is its result.
set -u
mark() { echo "MUTCELL-GUEST: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
mark "userspace ready at $(uptime_s) s (kernel $(uname -r), $(nproc) CPUs, $(free -m | awk '/Mem:/{print $2}') MiB)"
done_() { sync; mark "powering off at $(uptime_s) s"; systemctl poweroff -ff; sleep 60; }

share=/mnt/payload  # mounted by the image's mutcell-guest-boot
mark "boot: $(systemd-analyze time 2>/dev/null | head -n 1)"
mark "cgroup: $(stat -fc %T /sys/fs/cgroup) controllers '$(cat /sys/fs/cgroup/cgroup.subtree_control)', swap $(awk 'NR>1' /proc/swaps | wc -l) device(s)"

venv=/home/runner/venv
if ls "$share"/mutcell-wheel/*.whl >/dev/null 2>&1; then
  mark "installing mutcell: pip install $(basename "$share"/mutcell-wheel/*.whl)"
  runuser -u runner -- "$venv/bin/pip" install -q --disable-pip-version-check --no-index \
    --find-links /opt/wheels "$share"/mutcell-wheel/*.whl || { mark "RESULT: FAIL (pip install)"; done_; }
elif [ -d "$share/mutcell-prefix" ]; then
  mark "installing mutcell: cmake --install tree copied into $venv"
  cp -r "$share"/mutcell-prefix/. "$venv/" && chown -R runner:runner "$venv"
fi

results=$share/results
mkdir -p "$results"
while read -r name user file; do
  [ -n "$name" ] || continue
  res=/var/tmp/results/$name
  mkdir -p "$res" && chown "$user": "$res"
  home=$(getent passwd "$user" | cut -d: -f6)
  mark "scenario $name as $user: start at $(uptime_s) s"
  t0=$(uptime_s)
  # --pipe: the scenario's output comes to this console; --wait: its status.
  systemd-run --quiet --wait --pipe --collect --unit="scenario-$name" -p User="$user" \
    -p WorkingDirectory="$home" -E HOME="$home" -E USER="$user" -E LANG=C.UTF-8 \
    -E PATH="$venv/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" -E VENV="$venv" \
    -E PAYLOAD="$share" -E RESULTS="$res" -E WHEELS=/opt/wheels -E SCENARIO="$name" \
    /bin/bash "$share/scenarios/$file" </dev/null 2>&1
  rc=$?
  t1=$(uptime_s)
  mkdir -p "$results/$name"
  cp -r "$res"/. "$results/$name/" 2>/dev/null
  echo "$rc" >"$results/$name/rc"
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f\n", b-a}' >"$results/$name/seconds"
  mark "scenario $name: exit $rc after $(cat "$results/$name/seconds") s"
done <"$share/scenarios.list"
mark "left behind: cgroups '$(find /sys/fs/cgroup -type d \( -name 'mutcell-[0-9]*' -o -name mutcell-init \) | tr '\n' ' ')'"
mark "RESULT: DONE"
done_

# Non-root, the supported ways (issue 12 point 3), as `runner` (passwordless
# sudo) in a system service that is not delegated, as a CI job's steps run:
#   sudo:   `sudo mutcell mutmut`: mutcell asks systemd for a delegated scope
#           (re-exec under systemd-run --scope -p Delegate=yes), makes v2
#           cells as root, and mutmut's preparation, the fork server and every
#           test run as runner; every file is runner's.
#   refuse: plain `mutcell mutmut --require-cells` here: exit 2 naming why
#           and the fixes; without the flag: the NO CELLS warning, backend none.
#   system-scope: `sudo systemd-run --scope -p Delegate=yes -p User=runner
#           --uid=runner ...`: mutcell as runner in a scope delegated to it.
#   user-*: with runner's user manager running (lingering, as on GitHub's
#           images): `systemd-run --user --scope -p Delegate=yes mutcell ...`
#           from here, and plain `mutcell mutmut`, which re-executes itself so.
# (The refusal needs no user manager: lingering is off for it, then back on.)
# Each run: backend v2 (journal header), the runaway oom, nothing left behind.
source "$PAYLOAD/scenarios/lib.sh"
py=$VENV/bin/python
mc=$VENV/bin/mutcell
runaway=blocks.core.x_read_blocks__mutmut_8
subset=("$runaway" blocks.core.x_read_blocks__mutmut_4 blocks.core.x_checksum__mutmut_1)
uid=$(id -u)
work=$HOME/nonroot
copy_example runaway "$work"
cd "$work" || exit 1
# Every pytest process says who it is (clean run, fork server, each mutant).
cat >tests/conftest.py <<PYEOF
import os
with open(os.path.join("$HOME", "uids.txt"), "a") as f:
    f.write(f"{os.getpid()} {os.getuid()} {os.getgid()}\n")
PYEOF
say "own cgroup: $(cat /proc/self/cgroup); mutcell doctor:"
"$mc" doctor 2>&1 | sed 's/^/  doctor| /'

backend_of() { head -n 1 "$1/journal.jsonl" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("backend",""))' 2>/dev/null; }
verdict_of() { journal_verdicts "$1" oom | grep -qx "$runaway"; }
# expect_cells NAME STATE_DIR RC: the checks every way with cells must pass.
expect_cells() {
  check "$1: exit 0 (was $3)" [ "$3" = 0 ]
  check "$1: backend v2 (journal says '$(backend_of "$2")')" [ "$(backend_of "$2")" = v2 ]
  check "$1: the runaway is oom" verdict_of "$2"
  local left
  left=$(find /sys/fs/cgroup -type d \( -name 'mutcell-[0-9]*' -o -name mutcell-init \) 2>/dev/null | tr '\n' ' ')
  check "$1: no mutcell cgroup left ($left)" [ -z "$left" ]
}

# --- sudo: the full preparation too, so mutants/ is made as runner. ---
: >"$HOME/uids.txt"
sudo --preserve-env=PATH "$mc" mutmut --require-cells --max-children 2 --python "$py" --state-dir .mc-sudo "${subset[@]}" \
  >"$RESULTS/sudo.log" 2>&1
rc=$?
tail -n 30 "$RESULTS/sudo.log" | sed 's/^/  sudo| /'
expect_cells sudo .mc-sudo "$rc"
check "sudo: it asked systemd for a delegated scope" grep -q "re-executing: systemd-run --scope -p Delegate=yes" "$RESULTS/sudo.log"
check "sudo: sudo mode was on" grep -q "sudo mode: cgroups are managed as root" "$RESULTS/sudo.log"
cp "$HOME/uids.txt" "$RESULTS/sudo-uids.txt"
check "sudo: pytest ran ($(wc -l <"$HOME/uids.txt") processes) and only as runner ($(awk '{print $2":"$3}' "$HOME/uids.txt" | sort -u | tr '\n' ' '))" \
  [ -s "$HOME/uids.txt" -a "$(awk '{print $2":"$3}' "$HOME/uids.txt" | sort -u)" = "$uid:$(id -g)" ]
notmine=$(find "$work" ! -user runner -o ! -group "$(id -gn)" | head -n 5)
check "sudo: every file in the project is runner's (not: '$notmine')" [ -z "$notmine" ]

# --- refuse: here, no delegation, not root, no user manager. ---
sudo loginctl disable-linger runner
for _ in $(seq 150); do [ -e "/run/user/$uid/systemd/private" ] || break; sleep 0.2; done
check "refuse: runner's user manager is gone" [ ! -e "/run/user/$uid/systemd/private" ]
copy_example runaway "$HOME/plain"
(cd "$HOME/plain" && "$mc" mutmut --require-cells --python "$py" >"$RESULTS/refuse.log" 2>&1)
rc=$?
sed 's/^/  refuse| /' "$RESULTS/refuse.log" | tail -n 20
check "refuse: --require-cells exits 2 (was $rc)" [ "$rc" = 2 ]
check "refuse: it says why" grep -q "is managed by systemd" "$RESULTS/refuse.log"
check "refuse: it names sudo" grep -q "sudo mutcell mutmut --require-cells" "$RESULTS/refuse.log"
check "refuse: it names a delegated scope" grep -q "systemd-run --user --scope -p Delegate=yes -- mutcell mutmut" "$RESULTS/refuse.log"
check "refuse: mutmut's preparation did not run" [ ! -d "$HOME/plain/mutants" ]
"$mc" mutmut --skip-prepare --fresh --max-children 2 --python "$py" --state-dir .mc-none "${subset[@]}" \
  >"$RESULTS/none.log" 2>&1
rc=$?
check "none: without the flag it runs (exit $rc)" [ "$rc" = 0 ]
check "none: backend none" [ "$(backend_of .mc-none)" = none ]
check "none: the NO CELLS warning at the start and after the summary" [ "$(grep -c 'NO CELLS' "$RESULTS/none.log")" = 2 ]

# --- system-scope: a scope of the system manager delegated to runner. ---
sudo systemd-run --scope -p Delegate=yes -p User=runner --uid=runner --gid="$(id -g)" --quiet -- \
  env PATH="$PATH" "$mc" mutmut --skip-prepare --fresh --max-children 2 --python "$py" --state-dir .mc-sysscope \
  "${subset[@]}" >"$RESULTS/system-scope.log" 2>&1
rc=$?
tail -n 12 "$RESULTS/system-scope.log" | sed 's/^/  system-scope| /'
expect_cells system-scope .mc-sysscope "$rc"

# --- user-*: runner's user manager, as on GitHub's images (lingering). ---
sudo loginctl enable-linger runner
for _ in $(seq 150); do [ -S "/run/user/$uid/systemd/private" ] && break; sleep 0.2; done
export XDG_RUNTIME_DIR=/run/user/$uid
ucg=/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service
say "user manager: $(systemctl --user is-system-running 2>&1); $ucg controllers '$(cat "$ucg/cgroup.controllers" 2>&1)'"

# By hand, from here (a system service, as a CI job's step).
systemd-run --user --scope -p Delegate=yes --quiet -- "$mc" mutmut --skip-prepare --fresh --max-children 2 \
  --python "$py" --state-dir .mc-uscope "${subset[@]}" >"$RESULTS/user-scope.log" 2>&1
rc=$?
tail -n 8 "$RESULTS/user-scope.log" | sed 's/^/  user-scope| /'
expect_cells user-scope .mc-uscope "$rc"

# Plain mutcell: it asks the user manager itself (re-exec under systemd-run --user --scope).
"$mc" mutmut --skip-prepare --fresh --max-children 2 --python "$py" --state-dir .mc-ureexec "${subset[@]}" \
  >"$RESULTS/user-reexec.log" 2>&1
rc=$?
tail -n 8 "$RESULTS/user-reexec.log" | sed 's/^/  user-reexec| /'
expect_cells user-reexec .mc-ureexec "$rc"
check "user-reexec: it re-executed under systemd-run --user --scope" grep -q "re-executing: systemd-run --user --scope" "$RESULTS/user-reexec.log"
finish

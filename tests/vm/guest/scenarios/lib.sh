# Helpers for guest scenarios: `source "$PAYLOAD/scenarios/lib.sh"`.
# Scenarios run as `runner` (passwordless sudo) in a system service of their
# own; see guest-run.sh for their environment.

say() { echo "[$SCENARIO $(cut -d' ' -f1 /proc/uptime)s] $*"; }
fails=0
check() {  # check DESCRIPTION COMMAND...: records a failed expectation, goes on
  local what=$1
  shift
  if "$@"; then
    say "ok: $what"
  else
    say "FAILED: $what"
    fails=$((fails + 1))
  fi
}
finish() {
  if [ "$fails" -eq 0 ]; then say "all checks passed"; exit 0; fi
  say "$fails check(s) failed"
  exit 1
}

# copy_example NAME DEST: a fresh copy of examples/NAME owned by us.
copy_example() {
  rm -rf "$2"
  cp -r "$PAYLOAD/examples/$1" "$2"
  rm -rf "$2/mutants" "$2/.mutcell"
}

# unit_run UNIT [systemd-run options]... -- COMMAND...: runs COMMAND as the
# current user in the transient system service UNIT.service (`sudo systemd-run
# --wait --uid=$USER`, default OOMPolicy=stop) from the current directory.
# Writes $RESULTS/UNIT.{out,summary,events,peak,slice_oom}: the command's
# output, systemd-run's summary (Finished with result ..., Main processes
# terminated with ...), the unit's last memory.events and memory.peak (polled:
# the cgroup goes with the unit; the kernel log's OOM reports fill in a kill
# the last poll missed), and the oom_kill count system.slice gained
# (memory.events counts the whole subtree).
unit_run() {
  local unit=$1
  shift
  local opts=()
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  local cg=/sys/fs/cgroup/system.slice/$unit.service
  local before after kbefore kafter
  before=$(awk '$1=="oom_kill"{print $2}' /sys/fs/cgroup/system.slice/memory.events)
  kbefore=$(sudo dmesg | grep -c "oom_memcg=/system.slice/$unit.service")
  (
    while :; do
      if [ -r "$cg/memory.events" ]; then
        cat "$cg/memory.events" >"$RESULTS/$unit.events.tmp" 2>/dev/null &&
          mv "$RESULTS/$unit.events.tmp" "$RESULTS/$unit.events"
        cat "$cg/memory.peak" >"$RESULTS/$unit.peak.tmp" 2>/dev/null &&
          mv "$RESULTS/$unit.peak.tmp" "$RESULTS/$unit.peak"
      fi
      sleep 0.3
    done
  ) &
  local poller=$!
  local t0 t1
  t0=$(date +%s.%N)
  sudo systemd-run --wait --pipe --collect --unit="$unit" --uid="$(id -u)" --gid="$(id -g)" \
    -p WorkingDirectory="$PWD" -E HOME="$HOME" -E PATH="$PATH" -E LANG=C.UTF-8 "${opts[@]}" \
    -- "$@" >"$RESULTS/$unit.out" 2>&1 </dev/null
  UNIT_RC=$?
  t1=$(date +%s.%N)
  sleep 0.5
  kill "$poller" 2>/dev/null
  wait "$poller" 2>/dev/null
  after=$(awk '$1=="oom_kill"{print $2}' /sys/fs/cgroup/system.slice/memory.events)
  echo $((after - before)) >"$RESULTS/$unit.slice_oom"
  kafter=$(sudo dmesg | grep -c "oom_memcg=/system.slice/$unit.service")
  UNIT_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
  echo "$UNIT_WALL" >"$RESULTS/$unit.wall"
  # systemd-run --wait prints its summary on stderr, after the command's output.
  # (a progress line without a newline may precede it).
  tr '\r' '\n' <"$RESULTS/$unit.out" |
    grep -oE '(Finished with result|Main processes terminated with|Service runtime|CPU time consumed|Memory peak): .*' \
    >"$RESULTS/$unit.summary"
  UNIT_RESULT=$(sed -n 's/^Finished with result: //p' "$RESULTS/$unit.summary")
  UNIT_MAIN=$(sed -n 's/^Main processes terminated with: //p' "$RESULTS/$unit.summary")
  # The unit's oom_kill: its memory.events as last polled, or the kernel's
  # OOM reports naming the unit's cgroup as the limit hit, whichever is more
  # (systemd may stop the unit and remove its cgroup between two polls).
  UNIT_OOM=$(awk '$1=="oom_kill"{print $2}' "$RESULTS/$unit.events" 2>/dev/null)
  UNIT_OOM=${UNIT_OOM:-0}
  [ $((kafter - kbefore)) -gt "$UNIT_OOM" ] && UNIT_OOM=$((kafter - kbefore))
  UNIT_SLICE_OOM=$(cat "$RESULTS/$unit.slice_oom")
  UNIT_PEAK=$(cat "$RESULTS/$unit.peak" 2>/dev/null || echo 0)
  say "$unit: systemd-run exit $UNIT_RC, result '$UNIT_RESULT', main process '$UNIT_MAIN'," \
    "oom_kill unit $UNIT_OOM, system.slice +$UNIT_SLICE_OOM, unit peak $((UNIT_PEAK / 1048576)) MiB, $UNIT_WALL s"
  # Progress spinners end their lines with CR: show the last state of each.
  tr '\r' '\n' <"$RESULTS/$unit.out" | grep -v '^[[:space:]]*$' | tail -n 25 | sed "s/^/  $unit| /"
}

# meta_counts DIR: "<recorded> <total>" mutants in DIR/mutants/**/*.meta.
meta_counts() {
  python3 - "$1" <<'EOF'
import glob, json, os, sys
codes = {}
for m in glob.glob(os.path.join(sys.argv[1], "mutants", "**", "*.meta"), recursive=True):
    with open(m) as f:
        codes.update(json.load(f).get("exit_code_by_key", {}))
print(sum(v is not None for v in codes.values()), len(codes))
EOF
}

# meta_codes DIR OUT: writes {mutant: exit code} of DIR's .meta files to OUT.
meta_codes() {
  python3 - "$1" "$2" <<'EOF'
import glob, json, os, sys
codes = {}
for m in glob.glob(os.path.join(sys.argv[1], "mutants", "**", "*.meta"), recursive=True):
    with open(m) as f:
        codes.update(json.load(f).get("exit_code_by_key", {}))
json.dump(codes, open(sys.argv[2], "w"), indent=1, sort_keys=True)
EOF
}

# journal_verdicts STATE_DIR VERDICT: the ids with that final verdict, one a line.
journal_verdicts() {
  python3 - "$1/journal.jsonl" "$2" <<'EOF'
import json, sys
last = {}
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("type") == "result":
        last[r["id"]] = r.get("verdict")
print("\n".join(sorted(k for k, v in last.items() if v == sys.argv[2])))
EOF
}

# mutcell_cgroups: every cgroup a mutcell run makes (mutcell-<pid>-<run>,
# mutcell-init) in the whole hierarchy, one a line (not mutcell-guest.service).
mutcell_cgroups() { find /sys/fs/cgroup -type d \( -name 'mutcell-[0-9]*' -o -name mutcell-init \) 2>/dev/null; }

# The seed, reproduced under real systemd: `mutmut run` on examples/runaway in
# a system service with MemoryMax (default OOMPolicy=stop), then `mutcell
# mutmut` in the same kind of unit (Delegate=yes, so it may make its cells
# there). Writes $RESULTS/seed.md, the benchmark's seed table from the guest.
source "$PAYLOAD/scenarios/lib.sh"
# Low enough that the runaway reaches it before mutmut's wall-clock timeout
# (15 s here) even under TCG, where allocating is slow (probe below); high
# enough for mutcell's defaults (budget 75% of it >= the project's 256M cell
# plus the zygote reserve).
limit=${SEED_MEMORY_MAX:-512M}
say "runaway under a systemd unit with MemoryMax=$limit, OOMPolicy=stop (default), no swap"
say "allocation probe: $(python3 -c 'import time; t=time.time(); b=[bytearray(1 << 20) for _ in range(256)]; print(f"256 MiB in {time.time() - t:.2f} s")')"

# 1. mutmut run: the kernel OOM-kills the runaway child inside the unit,
# systemd counts it and stops the whole unit.
copy_example runaway "$HOME/seed-mutmut"
cd "$HOME/seed-mutmut" || exit 1
unit_run seed-mutmut -p MemoryMax="$limit" -- "$VENV/bin/mutmut" run --max-children 2
read -r mm_rec mm_total < <(meta_counts .)
mm_row="| mutmut run (fork) | $UNIT_RESULT | $UNIT_MAIN | $mm_rec/$mm_total | $UNIT_OOM | $UNIT_SLICE_OOM | - | $UNIT_WALL | $((UNIT_PEAK / 1048576)) MiB |"
check "systemd stopped mutmut's unit for the OOM kill (Result oom-kill)" [ "$UNIT_RESULT" = oom-kill ]
check "the kernel OOM-killed in the unit (oom_kill $UNIT_OOM, system.slice +$UNIT_SLICE_OOM)" [ "$UNIT_OOM" != 0 -a "$UNIT_SLICE_OOM" != 0 ]
check "mutmut did not record every mutant ($mm_rec/$mm_total)" [ "$mm_rec" -lt "$mm_total" ]

# 2. mutcell mutmut in the same unit: its cell stops the runaway (oom) before
# the kernel would, so nothing reaches the unit's memory.events.
copy_example runaway "$HOME/seed-mutcell"
cd "$HOME/seed-mutcell" || exit 1
unit_run seed-mutcell -p MemoryMax="$limit" -p Delegate=yes -- "$VENV/bin/mutcell" mutmut --max-children 2
mc_rc=$UNIT_RC
read -r mc_rec mc_total < <(meta_counts .)
ooms=$(journal_verdicts .mutcell oom | tr '\n' ' ')
mc_row="| mutcell mutmut | $UNIT_RESULT | $UNIT_MAIN | $mc_rec/$mc_total | $UNIT_OOM | $UNIT_SLICE_OOM | ${ooms:-none} | $UNIT_WALL | $((UNIT_PEAK / 1048576)) MiB |"
check "mutcell's unit succeeded (Result success, exit 0)" [ "$UNIT_RESULT" = success -a "$mc_rc" = 0 ]
check "every mutant recorded ($mc_rec/$mc_total)" [ "$mc_rec" = "$mc_total" -a "$mc_total" -gt 0 ]
check "the runaway is oom (${ooms:-none})" grep -q 'x_read_blocks' <<<"$ooms"
check "oom_kill 0 in the unit" [ "$UNIT_OOM" = 0 ]
check "oom_kill 0 in system.slice (the unit's ancestors)" [ "$UNIT_SLICE_OOM" = 0 ]
check "the v2 backend ran the cells" grep -q 'cgroup v2: run cgroup' "$RESULTS/seed-mutcell.out"
check "no mutcell cgroup left" [ -z "$(mutcell_cgroups)" ]

{
  echo "Measured in the systemd guest (tests/vm/guest, scenario seed.sh): Debian 12, systemd $(systemctl --version | awk 'NR==1{print $2}') as PID 1, kernel $(uname -r) under qemu TCG, $(nproc) vCPUs, cgroup v2 only, no swap; each command in its own \`systemd-run --wait -p MemoryMax=$limit --uid=runner\` service (default OOMPolicy=stop; mutcell's with \`-p Delegate=yes\`), on a copy of examples/runaway, 2 mutants at a time."
  echo
  echo "| command | unit result | main process | mutants recorded | oom_kill (unit) | oom_kill (system.slice) | oom verdicts | wall s | unit peak |"
  echo "|---|---|---|---|---|---|---|---|---|"
  echo "$mm_row"
  echo "$mc_row"
} >"$RESULTS/seed.md"
cat "$RESULTS/seed.md"
finish

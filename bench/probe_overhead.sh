#!/usr/bin/env bash
# Cost of the eBPF pipe probe (root; a kernel where it loads), measured side by side in
# one run, alternating bare and probed runs $RUNS times each:
#
#  1. throughput: head -c $SIZE /dev/zero | cat | cat | cat > /dev/null
#     (large reads and writes: goal, at most 2% lost with the probe attached);
#  2. small writes: dd bs=4k count=$COUNT if=/dev/zero | dd bs=4k of=/dev/null
#     ($COUNT writes and reads of 4 KiB: goal, at most 5% lost);
#  3. the probe's programs' own CPU per run (kernel.bpf_stats_enabled for one run of 2);
#  4. `pipescope top` left running for $IDLE seconds (default interval 1s, output to
#     /dev/null): its own utime+stime in % of one core (goal: under 1%).
#
# "Probed" runs have the probe attached by a background `pipescope top -i 1s` (its own
# reading costs are part of the figure). Prints medians and the ratio probed/bare.
#
# Usage: sudo bench/probe_overhead.sh          (SIZE=8G COUNT=1000000 RUNS=5 IDLE=30)
#        SIZE=2G COUNT=250000 RUNS=3 IDLE=10 bench/probe_overhead.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-8G}
COUNT=${COUNT:-1000000}
RUNS=${RUNS:-5}
IDLE=${IDLE:-30}
BIN=${BIN:-target/release/pipescope}
BIG="head -c $SIZE /dev/zero | cat | cat | cat > /dev/null"
SMALL="dd if=/dev/zero bs=4k count=$COUNT status=none | dd of=/dev/null bs=4k status=none"

if [ "$(id -u)" -ne 0 ]; then
  echo "probe_overhead: run as root (the probe needs CAP_BPF and CAP_PERFMON)" >&2
  exit 2
fi
if [ ! -x "$BIN" ]; then
  echo "building $BIN" >&2
  cargo build --release -p pipescope >&2
fi

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); if (NR % 2) print v[m]; else printf "%.3f\n", (v[m] + v[m + 1]) / 2 }'; }

# Starts `pipescope top` in the background and waits until its probe is attached (its
# first refresh); sets TOP_PID.
start_probe() {
  local fifo
  fifo=$(mktemp -u)
  mkfifo "$fifo"
  "$BIN" top --plain -i 1s > "$fifo" 2>/dev/null &
  TOP_PID=$!
  exec {first}< "$fifo"
  rm -f "$fifo"
  read -r line <&"$first"
  case $line in
    *"kernel probe"*) ;;
    *) echo "probe_overhead: the probe did not attach: $line" >&2; exit 1 ;;
  esac
  # Keep draining its output so it never blocks.
  cat <&"$first" > /dev/null &
  exec {first}<&-
}

stop_probe() {
  kill -TERM "$TOP_PID"
  wait "$TOP_PID" 2>/dev/null || true
}

timed() {
  local t0
  t0=$(now)
  sh -c "$1"
  secs "$t0" "$(now)"
}

# bench NAME PIPELINE: alternating bare and probed runs; prints medians and the loss.
bench() {
  local name=$1 pipeline=$2 bare=() probed=() i which
  for i in $(seq 1 "$RUNS"); do
    for which in $([ $((i % 2)) -eq 1 ] && echo "bare probed" || echo "probed bare"); do
      if [ "$which" = probed ]; then
        start_probe
        probed+=("$(timed "$pipeline")")
        stop_probe
      else
        bare+=("$(timed "$pipeline")")
      fi
    done
  done
  local mb mp
  mb=$(median "${bare[@]}")
  mp=$(median "${probed[@]}")
  printf '%-13s bare %7.3fs  probed %7.3fs  (runs: bare %s; probed %s)\n' \
    "$name" "$mb" "$mp" "${bare[*]}" "${probed[*]}"
  awk -v b="$mb" -v p="$mp" -v n="$name" 'BEGIN {
    printf "%-13s throughput probed/bare = %.3f  (%.1f%% lost)\n", n, b / p, (1 - b / p) * 100 }'
}

echo "== probe overhead, $(nproc) CPUs, kernel $(uname -r), RUNS=$RUNS"
echo "big:   $BIG"
bench "big writes" "$BIG"
echo "small: $SMALL"
bench "4 KiB writes" "$SMALL"

echo "== the probe's own CPU per run (kernel.bpf_stats_enabled, during the small writes)"
# A CPU-time figure, steadier than wall-clock ratios on a busy machine. The sysctl is
# put back as it was.
stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled)
echo 1 > /proc/sys/kernel/bpf_stats_enabled
start_probe
ids=$(grep -h '^prog_id:' /proc/"$TOP_PID"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u)
sh -c "$SMALL"
for id in $ids; do
  bpftool prog show id "$id" | head -1 |
    awk '{ for (i = 1; i <= NF; i++) { if ($i == "name") n = $(i+1); if ($i == "run_time_ns") t = $(i+1); if ($i == "run_cnt") c = $(i+1) }
           if (c > 0) printf "%-16s %7.0f ns per run, %d runs (all processes)\n", n, t / c, c }'
done
stop_probe
echo "$stats_was" > /proc/sys/kernel/bpf_stats_enabled

echo "== pipescope top left running ${IDLE}s (interval 1s)"
hz=$(getconf CLK_TCK)
start_probe
read -r -a stat0 < <(sed 's/.*) //' "/proc/$TOP_PID/stat")
sleep "$IDLE"
read -r -a stat1 < <(sed 's/.*) //' "/proc/$TOP_PID/stat")
stop_probe
ticks=$(( stat1[11] + stat1[12] - stat0[11] - stat0[12] ))
awk -v t="$ticks" -v hz="$hz" -v s="$IDLE" 'BEGIN {
  printf "top: %.2fs CPU in %ds = %.2f%% of one core\n", t / hz, s, 100 * t / hz / s }'

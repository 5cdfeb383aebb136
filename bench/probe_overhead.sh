#!/usr/bin/env bash
# Cost of the eBPF pipe probe (root; a kernel where it loads), measured side by side in
# one run. Each workload runs $RUNS rounds; a round runs it three ways, in turn:
#
#   bare   nothing attached;
#   floor  empty programs on the probe's tracepoints (bench/probe_floor: the least any
#          probe on raw_syscalls:sys_exit and sched:sched_switch can cost; needs clang
#          and libbpf-dev, else skipped);
#   probe  pipescope's probe, attached by a background `pipescope top -i 1s` (its reading
#          costs are part of the figure).
#
# First, the cost per call: bench/probe_floor/calls.c times getppid (no fd), a 4 KiB read
# of /dev/zero (not a pipe) and 4 KiB pipe writes and reads, the three ways; the steadiest
# figure here. Then the workloads:
#  1. big writes: head -c $SIZE /dev/zero | cat | cat | cat > /dev/null  (goal: at most
#     2% throughput lost);
#  2. small writes: dd bs=4k count=$COUNT if=/dev/zero | dd bs=4k of=/dev/null  ($COUNT
#     writes and reads of 4 KiB, each dd pinned to a CPU of its own; goal: at most 5% lost).
# For each: median wall time and CPU time (user+sys of the pipeline), the throughput lost
# against bare, and the probe's cost beyond the floor.
#
# Then: the probe's programs' own time per run (kernel.bpf_stats_enabled, put back after),
# and `pipescope top` left running for $IDLE seconds: its own CPU in % of one core (goal:
# under 1%).
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
# With two CPUs or more, the two dd run pinned to two of them: left to the scheduler,
# whether they share a CPU changes their speed threefold from run to run.
if [ "$(nproc)" -ge 2 ]; then
  SMALL="taskset -c 0 dd if=/dev/zero bs=4k count=$COUNT status=none | taskset -c 1 dd of=/dev/null bs=4k status=none"
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "probe_overhead: run as root (the probe needs CAP_BPF and CAP_PERFMON)" >&2
  exit 2
fi
if [ ! -x "$BIN" ]; then
  echo "building $BIN" >&2
  cargo build --release -p pipescope >&2
fi

tmp=$(mktemp -d)
HOLDER=""
stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled)
cleanup() {
  if [ -n "$HOLDER" ]; then
    kill -TERM "$HOLDER" 2>/dev/null || true
    wait "$HOLDER" 2>/dev/null || true
  fi
  echo "$stats_was" > /proc/sys/kernel/bpf_stats_enabled
  rm -rf "$tmp"
}
trap cleanup EXIT

FLOOR=yes
if ! { clang -target bpf -O2 -I/usr/include/"$(gcc -dumpmachine)" \
         -c bench/probe_floor/floor.bpf.c -o "$tmp/floor.o" &&
       gcc -O2 -o "$tmp/loader" bench/probe_floor/loader.c -lbpf; } 2>"$tmp/build.log"; then
  FLOOR=""
  echo "floor: skipped (building it needs clang and libbpf-dev): $(head -1 "$tmp/build.log")"
fi
gcc -O2 -o "$tmp/calls" bench/probe_floor/calls.c

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); if (NR % 2) print v[m]; else printf "%.3f\n", (v[m] + v[m + 1]) / 2 }'; }

# attach MODE: starts what MODE runs in the background (none for bare), waits until it is
# attached; sets HOLDER.
attach() {
  local line
  HOLDER=""
  case $1 in
    bare) return ;;
    floor) "$tmp/loader" "$tmp/floor.o" > "$tmp/out" 2>&1 & ;;
    probe) "$BIN" top --plain -i 1s > "$tmp/out" 2>/dev/null & ;;
  esac
  HOLDER=$!
  for _ in $(seq 300); do
    line=$(head -1 "$tmp/out" 2>/dev/null || true)
    [ -n "$line" ] && break
    kill -0 "$HOLDER" 2>/dev/null || break
    sleep 0.05
  done
  case "$1:$line" in
    floor:attached | probe:*"kernel probe"*) ;;
    *) echo "probe_overhead: $1 did not attach: ${line:-$(cat "$tmp/out")}" >&2; exit 1 ;;
  esac
}

detach() {
  if [ -n "$HOLDER" ]; then
    kill -TERM "$HOLDER"
    wait "$HOLDER" 2>/dev/null || true
    HOLDER=""
  fi
}

# timed PIPELINE: prints "wall cpu" in seconds (cpu: user+sys of the pipeline's processes).
timed() {
  local TIMEFORMAT='%R %U %S' t
  t=$( { time sh -c "$1" > /dev/null; } 2>&1 )
  awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' <<< "$t"
}

# bench NAME PIPELINE
bench() {
  local name=$1 pipeline=$2 i mode wall cpu
  local -A walls cpus
  local modes="bare${FLOOR:+ floor} probe"
  for i in $(seq 1 "$RUNS"); do
    for mode in $modes; do
      attach "$mode"
      read -r wall cpu < <(timed "$pipeline")
      detach
      walls[$mode]+=" $wall"
      cpus[$mode]+=" $cpu"
    done
  done
  declare -A mw mc
  for mode in $modes; do
    # shellcheck disable=SC2086
    mw[$mode]=$(median ${walls[$mode]})
    # shellcheck disable=SC2086
    mc[$mode]=$(median ${cpus[$mode]})
    printf '%-13s %-5s wall %7.3fs  cpu %7.3fs   (wall:%s)\n' "$name" "$mode" "${mw[$mode]}" "${mc[$mode]}" "${walls[$mode]}"
  done
  for mode in $modes; do
    [ "$mode" = bare ] && continue
    awk -v b="${mw[bare]}" -v p="${mw[$mode]}" -v cb="${mc[bare]}" -v cp="${mc[$mode]}" -v n="$name" -v m="$mode" 'BEGIN {
      printf "%-13s %-5s throughput lost %5.1f%%   cpu added %5.1f%%\n", n, m, (1 - b / p) * 100, (cp / cb - 1) * 100 }'
  done
  if [ -n "$FLOOR" ]; then
    awk -v f="${mw[floor]}" -v p="${mw[probe]}" -v cf="${mc[floor]}" -v cp="${mc[probe]}" -v n="$name" 'BEGIN {
      printf "%-13s probe beyond the floor: throughput %5.1f%% lost, cpu %5.1f%% added\n", n, (1 - f / p) * 100, (cp / cf - 1) * 100 }'
  fi
}

# per_call: ns per syscall (bench/probe_floor/calls.c), median over $RUNS rounds of the
# three ways, and what the floor and the probe add to each kind of call.
per_call() {
  local i mode g r p
  local -A gs rs ps
  local modes="bare${FLOOR:+ floor} probe"
  for i in $(seq 1 "$RUNS"); do
    for mode in $modes; do
      attach "$mode"
      read -r g r p < <("$tmp/calls")
      detach
      gs[$mode]+=" $g"; rs[$mode]+=" $r"; ps[$mode]+=" $p"
    done
  done
  local -A mg mr mp
  for mode in $modes; do
    # shellcheck disable=SC2086
    mg[$mode]=$(median ${gs[$mode]}); mr[$mode]=$(median ${rs[$mode]}); mp[$mode]=$(median ${ps[$mode]})
    printf 'per call      %-5s getppid %4.0f ns   read of /dev/zero %4.0f ns   pipe write or read %4.0f ns\n' \
      "$mode" "${mg[$mode]}" "${mr[$mode]}" "${mp[$mode]}"
  done
  for mode in $modes; do
    [ "$mode" = bare ] && continue
    printf 'per call      %-5s adds   %+4.0f ns                    %+4.0f ns                     %+4.0f ns\n' "$mode" \
      "$(( ${mg[$mode]%.*} - ${mg[bare]%.*} ))" "$(( ${mr[$mode]%.*} - ${mr[bare]%.*} ))" "$(( ${mp[$mode]%.*} - ${mp[bare]%.*} ))"
  done
}

echo "== probe overhead, $(nproc) CPUs, kernel $(uname -r), RUNS=$RUNS"
echo "per call: bench/probe_floor/calls.c (best of 3 rounds of 300,000 calls each)"
per_call
echo "big:   $BIG"
bench "big writes" "$BIG"
echo "small: $SMALL"
bench "4 KiB writes" "$SMALL"

echo "== the probe's programs' own time per run (kernel.bpf_stats_enabled, during the small writes)"
# A CPU-time figure, steadier than wall-clock ratios on a busy machine; the counting
# itself adds a few tens of ns per run.
echo 1 > /proc/sys/kernel/bpf_stats_enabled
attach probe
ids=$(grep -h '^prog_id:' /proc/"$HOLDER"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u)
sh -c "$SMALL"
for id in $ids; do
  bpftool prog show id "$id" > "$tmp/prog" || continue
  awk 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "name") n = $(i+1); if ($i == "run_time_ns") t = $(i+1); if ($i == "run_cnt") c = $(i+1) }
         if (c > 0) printf "%-16s %7.0f ns per run, %d runs (all processes)\n", n, t / c, c }' "$tmp/prog"
done
detach
echo "$stats_was" > /proc/sys/kernel/bpf_stats_enabled

echo "== pipescope top left running ${IDLE}s (interval 1s)"
hz=$(getconf CLK_TCK)
attach probe
read -r -a stat0 < <(sed 's/.*) //' "/proc/$HOLDER/stat")
sleep "$IDLE"
read -r -a stat1 < <(sed 's/.*) //' "/proc/$HOLDER/stat")
detach
ticks=$(( stat1[11] + stat1[12] - stat0[11] - stat0[12] ))
awk -v t="$ticks" -v hz="$hz" -v s="$IDLE" 'BEGIN {
  printf "top: %.2fs CPU in %ds = %.2f%% of one core\n", t / hz, s, 100 * t / hz / s }'

#!/usr/bin/env bash
# Overhead of `pipescope run` on a fast pipeline, measured side by side in one run:
#
#   head -c $SIZE /dev/zero | cat | cat | cat > /dev/null
#
# timed bare (sh -c) and under `pipescope run --plain --interval 10ms`, alternating,
# $RUNS times each; prints the medians, the throughputs and their ratio (goal: within 3%).
# Then runs it once more under the default interval (100ms) while reading pipescope's own
# utime+stime from /proc/PID/stat, and prints its CPU use in % of one core (goal: < 2%).
#
# Usage: bench/run_overhead.sh            (SIZE=8G RUNS=5)
#        SIZE=2G RUNS=3 bench/run_overhead.sh
#        BIN=/path/to/pipescope bench/run_overhead.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-8G}
RUNS=${RUNS:-5}
BIN=${BIN:-target/release/pipescope}
PIPELINE="head -c $SIZE /dev/zero | cat | cat | cat > /dev/null"

if [ ! -x "$BIN" ]; then
  echo "building $BIN" >&2
  cargo build --release -p pipescope >&2
fi

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); if (NR % 2) print v[m]; else printf "%.3f\n", (v[m] + v[m + 1]) / 2 }'; }
bytes() { numfmt --from=iec "$SIZE"; }

hz=$(getconf CLK_TCK)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Runs pipescope on the pipeline with interval $1 (stderr dropped), polling its own
# utime+stime (not its children's) every $2 seconds until it exits; sets CPU_TICKS.
watched_run() {
  local interval=$1 poll=$2
  polled_run "$poll" "$BIN" run --plain --interval "$interval" -- "$PIPELINE"
}

# Runs a command in the background (stderr dropped) and, beside it, a poller that reads
# the command's own utime+stime every $1 seconds; waits for the command, then sets
# END_TIME (taken the moment it exits, so the poll period does not round the time) and
# CPU_TICKS. The bare and the watched runs both go through here, so the measuring costs
# both sides the same.
polled_run() {
  local poll=$1 pid poller
  shift
  "$@" 2>/dev/null &
  pid=$!
  (
    # Sleep with `read -t` on a pipe nobody writes: no fork per poll.
    exec {nap}<> <(:)
    while read -r stat 2>/dev/null < "/proc/$pid/stat"; do
      rest=${stat##*) }
      set -- $rest
      [ "$1" = Z ] && break
      echo $(( ${12} + ${13} )) > "$tmp/ticks"
      read -r -t "$poll" -u "$nap" _ || true
    done
  ) &
  poller=$!
  wait "$pid"
  END_TIME=$(now)
  wait "$poller" 2>/dev/null || true
  CPU_TICKS=$(cat "$tmp/ticks" 2>/dev/null || echo 0)
  rm -f "$tmp/ticks"
}


bare=()
watched=()
cpu10=()
self10=()
pipe_cpu=()
for i in $(seq 1 "$RUNS"); do
  # Alternate which goes first, so drift in the machine's load falls on both.
  for which in $([ $((i % 2)) -eq 1 ] && echo "bare watched" || echo "watched bare"); do
    t0=$(now)
    if [ "$which" = bare ]; then
      # perl runs it and reports the CPU seconds its children (the pipeline) used.
      polled_run 0.2 perl -e 'open(STDOUT, ">", $ARGV[1]) or die; system("sh", "-c", $ARGV[0]);
        my @t = times; printf "%.3f\n", $t[2] + $t[3]' "$PIPELINE" "$tmp/cpu"
      pipe_cpu+=("$(cat "$tmp/cpu")")
    else
      watched_run 10ms 0.2
    fi
    t1=$END_TIME
    s=$(secs "$t0" "$t1")
    if [ "$which" = watched ]; then
      cpu10+=("$(awk -v t="$CPU_TICKS" -v hz="$hz" -v w="$s" 'BEGIN { printf "%.2f", 100 * t / hz / w }')")
      self10+=("$(awk -v t="$CPU_TICKS" -v hz="$hz" 'BEGIN { printf "%.3f", t / hz }')")
    fi
    if [ "$which" = bare ]; then bare+=("$s"); else watched+=("$s"); fi
    printf 'run %d %-8s %ss\n' "$i" "$which" "$s" >&2
  done
done

mb=$(median "${bare[@]}")
mw=$(median "${watched[@]}")
n=$(bytes)
echo "pipeline: $PIPELINE   ($RUNS runs each, medians)"
awk -v mb="$mb" -v mw="$mw" -v n="$n" 'BEGIN {
  printf "  bare                          %7.3fs  %7.0f MiB/s\n", mb, n / mb / 1048576
  printf "  pipescope run --interval 10ms %7.3fs  %7.0f MiB/s\n", mw, n / mw / 1048576
  printf "  throughput ratio (watched / bare): %.3f  (%+.1f%%; goal within 3%%)\n", mb / mw, (mb / mw - 1) * 100
}'
echo "  pipescope's own CPU at --interval 10ms: median $(median "${cpu10[@]}")% of one core"
awk -v s="$(median "${self10[@]}")" -v p="$(median "${pipe_cpu[@]}")" 'BEGIN {
  printf "  CPU: pipescope %.2fs vs the pipeline %.2fs (medians) = %.2f%% extra work\n", s, p, 100 * s / p
  printf "  (the throughput cost when the cores are saturated; the wall-clock ratio above\n"
  printf "   is only as good as the machine is quiet)\n"
}'

# The view's own CPU use at the default interval: pipescope's utime+stime (not its
# children's), read until it exits, over its wall time.
t0=$(now)
watched_run 100ms 0.05
t1=$END_TIME
awk -v t="$CPU_TICKS" -v hz="$hz" -v w="$(secs "$t0" "$t1")" 'BEGIN {
  printf "  view CPU at the default 100ms interval: %.2fs of %.2fs = %.2f%% of one core (goal < 2%%)\n", t / hz, w, 100 * t / hz / w
}'
echo "  load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

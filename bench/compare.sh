#!/usr/bin/env bash
# compare.sh: pipescope's scan speed and memory against its peers and the floor, side
# by side in one run, on a farm of idle processes (bench/farm.py).
#
#   bench/compare.sh            # RUNS=7 runs per command; LINEAR=0 skips the 5x farm
#
# Starts a farm (--pipelines 100 --stages 5 --extra 100: ~500 processes, ~51,500 fds),
# builds bench/floor.c and pipescope (release), then runs each command RUNS times,
# interleaved, output to /dev/null: lsof -n -P, lsfd, floor, floor -i, pipescope handles
# --json, pipescope handles -l --json. Prints the median wall time and peak RSS of each,
# and the ratios the goals are stated in. Then starts a farm five times as large and
# checks that the scan time grows at most 5.5x. Installs lsof, util-linux (lsfd) and
# GNU time when missing. Not part of the test suite; takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
LINEAR=${LINEAR:-1}
work=$(mktemp -d /tmp/pipescope-bench.XXXXXX)
farm_pid=""

stop_farm() {
  if [ -n "$farm_pid" ]; then
    kill -TERM "$farm_pid" 2>/dev/null || true
    wait "$farm_pid" 2>/dev/null || true
    farm_pid=""
  fi
}
cleanup() { stop_farm; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

need=()
command -v lsof >/dev/null || need+=(lsof)
command -v lsfd >/dev/null || need+=(util-linux)
[ -x /usr/bin/time ] || need+=(time)
command -v cc >/dev/null || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "building floor and pipescope (release)..." >&2
cc -O2 -o "$work/floor" bench/floor.c
cargo build --release --quiet -p pipescope
pipescope="${CARGO_TARGET_DIR:-target}/release/pipescope"

# start_farm PIPELINES: starts the farm and waits for its manifest.
start_farm() {
  rm -f "$work/farm.json"
  python3 bench/farm.py --pipelines "$1" --stages 5 --extra 100 \
    --manifest "$work/farm.json" --timeout 1800 </dev/null >/dev/null 2>"$work/farm.log" &
  farm_pid=$!
  while [ ! -f "$work/farm.json" ]; do
    if ! kill -0 "$farm_pid" 2>/dev/null; then cat "$work/farm.log" >&2; exit 1; fi
    sleep 0.2
  done
  cat "$work/farm.log" >&2
}

# measure NAME CMD...: runs CMD once; appends "seconds peak_kib cpu_seconds" to
# $work/t.NAME (cpu: user + system, all threads).
measure() {
  local name=$1; shift
  local t0=$EPOCHREALTIME
  /usr/bin/time -f "%M %U %S" -o "$work/rss" "$@" >/dev/null 2>"$work/stderr" || true
  local t1=$EPOCHREALTIME
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')" \
    "$(tail -1 "$work/rss" | awk '{ printf "%d %.2f", $1, $2 + $3 }')" >>"$work/t.$name"
}

# median NAME COLUMN: the median of a column (1: seconds, 2: KiB, 3: CPU s) of t.NAME.
median() {
  awk -v c="$2" '{ print $c }' "$work/t.$1" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# best NAME COLUMN: the smallest value of a column of t.NAME (the least disturbed run).
best() {
  awk -v c="$2" '{ print $c }' "$work/t.$1" | sort -g | head -1
}

names=(lsof lsfd floor floor_i ps_json ps_long)
run_all() { # run_all SUFFIX RUNS
  for ((i = 1; i <= $2; i++)); do
    printf '  run %d/%d\r' "$i" "$2" >&2
    measure "lsof$1" lsof -n -P
    measure "lsfd$1" lsfd
    measure "floor$1" "$work/floor"
    measure "floor_i$1" "$work/floor" -i
    measure "ps_json$1" "$pipescope" handles --json
    measure "ps_long$1" "$pipescope" handles -l --json
  done
  echo >&2
}

start_farm 100
fds=$("$work/floor" | awk '{ print $1 }')
echo "fds on the machine (floor's count): $fds; $RUNS runs of each command..." >&2
# One warm-up pass so every tool meets the same warm dentry cache.
run_all _warm 1
run_all "" "$RUNS"

echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
printf '%-38s %10s %8s %10s %12s\n' "command" "median s" "best s" "CPU s" "peak RSS MiB"
label() {
  case $1 in
    lsof) echo "lsof -n -P" ;; lsfd) echo "lsfd" ;; floor) echo "floor (readlink only)" ;;
    floor_i) echo "floor -i (readlink + fdinfo)" ;;
    ps_json) echo "pipescope handles --json" ;; ps_long) echo "pipescope handles -l --json" ;;
  esac
}
for n in "${names[@]}"; do
  printf '%-38s %10.3f %8.3f %10.2f %12.1f\n' "$(label "$n")" "$(median "$n" 1)" "$(best "$n" 1)" \
    "$(median "$n" 3)" \
    "$(awk -v k="$(median "$n" 2)" 'BEGIN { print k / 1024 }')"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ps_json=$(median ps_json 1); ps_long=$(median ps_long 1)
echo
echo "pipescope handles --json / floor:        $(ratio "$ps_json" "$(median floor 1)")x  (goal <= 1.3)"
echo "pipescope handles -l --json / floor -i:  $(ratio "$ps_long" "$(median floor_i 1)")x  (goal <= 1.2)"
echo "lsof -n -P / pipescope handles --json:   $(ratio "$(median lsof 1)" "$ps_json")x  (goal >= 5)"
echo "lsfd / pipescope handles --json:         $(ratio "$(median lsfd 1)" "$ps_json")x"
echo "best runs: --json / floor $(ratio "$(best ps_json 1)" "$(best floor 1)")x;" \
  "-l / floor -i $(ratio "$(best ps_long 1)" "$(best floor_i 1)")x;" \
  "lsof / --json $(ratio "$(best lsof 1)" "$(best ps_json 1)")x"
echo "CPU time, pipescope --json / floor:      $(ratio "$(median ps_json 3)" "$(median floor 3)")x;" \
  "-l / floor -i: $(ratio "$(median ps_long 3)" "$(median floor_i 3)")x"
if [ "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null)" = 1 ]; then
  echo "(sched_autogroup is on: on a busy machine this session's threads share one" \
    "CPU share, so pipescope's second thread cannot shorten its wall time)"
fi
echo "pipescope peak RSS: $(awk -v k="$(median ps_json 2)" 'BEGIN { printf "%.1f", k / 1024 }') MiB" \
  "(-l: $(awk -v k="$(median ps_long 2)" 'BEGIN { printf "%.1f", k / 1024 }') MiB; goal <= 25)"

if [ "$LINEAR" = 1 ]; then
  stop_farm
  echo >&2
  echo "five times the farm..." >&2
  start_farm 500
  fds5=$("$work/floor" | awk '{ print $1 }')
  measure ps_json_5warm "$pipescope" handles --json
  for ((i = 1; i <= RUNS; i++)); do
    measure ps_json_5 "$pipescope" handles --json
    measure floor_5 "$work/floor"
  done
  stop_farm
  echo
  t1=$ps_json; t5=$(median ps_json_5 1)
  echo "5x farm: $fds5 fds on the machine (1x: $fds)"
  echo "  pipescope handles --json: $t5 s vs $t1 s = $(ratio "$t5" "$t1")x the time" \
    "for $(ratio "$fds5" "$fds")x the fds; floor: $(ratio "$(median floor_5 1)" "$(median floor 1)")x"
  # Other processes' fds count too; scale the time ratio to exactly five times the fds.
  echo "  time growth per 5x fds: $(awk -v a="$t5" -v b="$t1" -v f="$fds5" -v g="$fds" \
    'BEGIN { printf "%.2f", (a / b) * 5 / (f / g) }')x (goal <= 5.5);" \
    "peak RSS $(awk -v k="$(median ps_json_5 2)" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
  echo "  CPU time: pipescope $(median ps_json 3) -> $(median ps_json_5 3) s" \
    "($(ratio "$(median ps_json_5 3)" "$(median ps_json 3)")x), floor $(median floor 3) ->" \
    "$(median floor_5 3) s ($(ratio "$(median floor_5 3)" "$(median floor 3)")x)"
  # The machine itself may not scale linearly (dentry cache, load): compare with floor.
  echo "  pipescope's growth / floor's growth: $(awk -v a="$t5" -v b="$t1" \
    -v c="$(median floor_5 1)" -v d="$(median floor 1)" 'BEGIN { printf "%.2f", (a / b) / (c / d) }')"
fi

# The pipes benchmark: pipescope pipes against its floors, lsof +E and procfd (PIPES=0 skips).
if [ "${PIPES:-1}" = 1 ]; then
  stop_farm
  echo
  echo "== pipescope pipes"
  bench/compare_pipes.sh
fi

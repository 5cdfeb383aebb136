#!/usr/bin/env bash
# Batch-decoding benchmark for `pipescope access -`: decodes N (default 1,000,000)
# `MASK TYPE` lines, in text and in JSON lines, and prints lines/s. Peers run in the same
# run on the same input, as floors: `cat` (just moving the bytes) and `awk` printing one
# field per line (the cheapest per-line program). Goal: >= 1,000,000 lines/s.
#
#   bench/access_batch.sh            # 1,000,000 lines, 3 runs each, best run reported
#   N=200000 RUNS=1 bench/access_batch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
RUNS=${RUNS:-3}

cargo build --release --quiet -p pipescope
bin=${CARGO_TARGET_DIR:-target}/release/pipescope

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
input=$work/masks.txt

# A realistic mix: Sysmon GrantedAccess values against processes, pipe ends, registry
# reads, fdinfo flags, and random masks over every kind of type, some without a type.
awk -v n="$N" 'BEGIN {
  srand(42)
  split("0x1010 process|0x1410 process|0x1fffff process|0x120189 file|0x120196 file|" \
        "0x20019 key|02000001 fd|0100002 fd|0x100001 mutex|0x1f0003 event|" \
        "0x120089 pipe|0xf01ff service|0x2000000 token|0x1f0001 ALPC Port", fixed, "|")
  nt = split("file process thread token key event mutant semaphore section job timer " \
             "iocompletion directory symboliclink desktop winsta service scmanager " \
             "alpcport debugobject session keyedevent etwregistration partition", types, " ")
  for (i = 0; i < n; i++) {
    r = rand()
    if (r < 0.6) print fixed[int(rand() * 14) + 1]
    else if (r < 0.95) printf "0x%x %s\n", int(rand() * 2097152), types[int(rand() * nt) + 1]
    else printf "0x%x\n", int(rand() * 4294967295)
  }
}' > "$input"
lines=$(wc -l < "$input")
printf 'input: %d lines, %d bytes\n\n' "$lines" "$(wc -c < "$input")"

# best_of CMD...: runs CMD RUNS times on the input; prints the best wall time and the best
# user+system CPU time, in seconds. The machine may be shared: CPU time shows what the
# program costs, wall time what a user waits.
best_of() {
  local best_wall="" best_cpu="" t wall cpu
  for _ in $(seq "$RUNS"); do
    t=$( { TIMEFORMAT='%R %U %S'; time "$@" < "$input" > /dev/null || [ $? -eq 1 ]; } 2>&1 )
    wall=$(echo "$t" | awk '{ print $1 }')
    cpu=$(echo "$t" | awk '{ print $2 + $3 }')
    if [ -z "$best_wall" ] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
      best_wall=$wall
    fi
    if [ -z "$best_cpu" ] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
      best_cpu=$cpu
    fi
  done
  echo "$best_wall $best_cpu"
}

cat_s=$(best_of cat)
awk_s=$(best_of awk '{ print $1 }')
text_s=$(best_of "$bin" access -)
json_s=$(best_of "$bin" access - --json)

row() { # name "wall cpu"
  awk -v name="$1" -v t="$2" -v n="$lines" -v awk_t="$awk_s" 'BEGIN {
    split(t, a, " "); split(awk_t, b, " ")
    printf "%-28s %7.3f s %11.0f/s %7.3f s %11.0f/s %7.2fx\n",
      name, a[1], n / a[1], a[2], (a[2] > 0 ? n / a[2] : 0), a[1] / b[1]
  }'
}
printf '%-28s %9s %12s %9s %12s %8s\n' "command (best of $RUNS)" "wall" "lines/wall" "cpu" "lines/cpu" "vs awk"
row "cat (floor)" "$cat_s"
row "awk '{print \$1}' (floor)" "$awk_s"
row "pipescope access -" "$text_s"
row "pipescope access - --json" "$json_s"

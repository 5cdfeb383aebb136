#!/usr/bin/env bash
# CPU and memory of `pipescope run`'s terminal UI on a 50-stage pipeline, measured in a
# real pseudo-terminal (tmux, 200x50) at the default 100 ms interval, side by side in the
# same run with:
#   - the same pipeline under `pipescope run --plain` (same sampling, no UI: what the UI
#     itself costs is the difference), and
#   - `top -d 0.1`, a full-screen terminal UI redrawn at the same rate (a peer).
#
# The pipeline: a perl source writing 64 KiB every 10 ms for $DUR seconds, then 49 cats,
# the last to /dev/null. Each pipescope's (and top's) own utime+stime is read from
# /proc/PID/stat over the middle of the run; the UI's peak RSS (VmHWM) is read at the end
# of that window. When the pipeline ends, the time until pipescope has exited is printed
# ("ended after"): the UI must not linger.
#
# Goal: the UI under 2% of one core for 50 stages at 100 ms.
#
# Usage: bench/tui_cpu.sh                  (STAGES=50 DUR=20)
#        STAGES=150 DUR=12 bench/tui_cpu.sh
#        RUN_ARGS=--no-probe bench/tui_cpu.sh   (extra `run` options for both pipescopes;
#                                                as root the eBPF probe is used otherwise)
#        BIN=/path/to/pipescope bench/tui_cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."

STAGES=${STAGES:-50}
RUN_ARGS=${RUN_ARGS:-}
DUR=${DUR:-20}
BIN=${BIN:-target/release/pipescope}
BIN=$(realpath "$BIN" 2>/dev/null || echo "$BIN")

for tool in tmux perl top; do
  command -v "$tool" >/dev/null || { echo "tui_cpu.sh needs $tool" >&2; exit 2; }
done
if [ ! -x "$BIN" ]; then
  echo "building $BIN" >&2
  cargo build --release -p pipescope >&2
  BIN=$(realpath target/release/pipescope)
fi

hz=$(getconf CLK_TCK)
tmp=$(mktemp -d)
socks=()
cleanup() {
  for s in "${socks[@]}"; do tmux -L "$s" kill-server 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

cats=$(for _ in $(seq $((STAGES - 1))); do printf ' | cat'; done)
source_cmd="perl -e '\$e = time + $DUR; while (time < \$e) { syswrite(STDOUT, \"\\0\" x 65536); select(undef, undef, undef, 0.01) }'"
# The shell running the pipeline notes when it ended; the pane notes when pipescope did.
pipeline() { printf '%s%s > /dev/null; date +%%s.%%N > %s' "$source_cmd" "$cats" "$tmp/$1.end"; }

# Starts `$2...` in a tmux pane of its own (200x50), named $1; stdout to /dev/null.
pane() {
  local name=$1
  shift
  local sock="tui-cpu-$name-$$"
  socks+=("$sock")
  printf '%q ' "$@" > "$tmp/$name.cmd"
  printf '%s > /dev/null\ndate +%%s.%%N > %s\nsleep 600\n' "$(cat "$tmp/$name.cmd")" \
    "$tmp/$name.done" > "$tmp/$name.sh"
  tmux -L "$sock" new-session -d -x 200 -y 50 "sh $tmp/$name.sh"
}

# The pid of the process the pane of $1 runs (the pane shell's only child).
pane_child() {
  local sock="tui-cpu-$1-$$" shell kid=""
  shell=$(tmux -L "$sock" display-message -p '#{pane_pid}')
  for _ in $(seq 100); do
    kid=$(pgrep -P "$shell" | head -1 || true)
    [ -n "$kid" ] && break
    sleep 0.05
  done
  echo "$kid"
}

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
pct() { awk -v t="$1" -v s="$2" -v hz="$hz" 'BEGIN { printf "%.2f", 100 * t / hz / s }'; }

# shellcheck disable=SC2086 # RUN_ARGS is split on purpose
pane tui "$BIN" run $RUN_ARGS -- "$(pipeline tui)"
pane plain sh -c "exec $(printf %q "$BIN") run $RUN_ARGS --plain -- $(printf %q "$(pipeline plain)") 2>/dev/null"
pane top top -d 0.1
tui=$(pane_child tui)
plain=$(pane_child plain)
top=$(pane_child top)
[ -n "$tui" ] && [ -n "$plain" ] && [ -n "$top" ] || { echo "a pane did not start" >&2; exit 1; }

# Measure the middle of the run: skip the start, stop before the source ends.
warm=2
window=$((DUR - warm - 2))
sleep "$warm"
t0=$(date +%s.%N)
a_tui=$(ticks "$tui"); a_plain=$(ticks "$plain"); a_top=$(ticks "$top")
sleep "$window"
b_tui=$(ticks "$tui"); b_plain=$(ticks "$plain"); b_top=$(ticks "$top")
t1=$(date +%s.%N)
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$tui/status")
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
screen=$(tmux -L "tui-cpu-tui-$$" capture-pane -p | head -1)

# Wait for both pipelines to end and pipescope to exit after them.
for name in tui plain; do
  for _ in $(seq $((DUR * 20 + 600))); do
    [ -s "$tmp/$name.done" ] && break
    sleep 0.05
  done
done
kill "$top" 2>/dev/null || true
linger() {
  awk -v e="$(cat "$tmp/$1.end" 2>/dev/null || echo 0)" -v d="$(cat "$tmp/$1.done" 2>/dev/null || echo 0)" \
    'BEGIN { if (e == 0 || d == 0) print "?"; else printf "%.0f ms", 1000 * (d - e) }'
}

cpu_tui=$(pct $((b_tui - a_tui)) "$secs")
cpu_plain=$(pct $((b_plain - a_plain)) "$secs")
cpu_top=$(pct $((b_top - a_top)) "$secs")
echo "tui_cpu.sh: $STAGES-stage pipeline, 100 ms interval, 200x50 pty, ${secs%.*} s measured, $(nproc) CPUs${RUN_ARGS:+, run $RUN_ARGS}"
echo "  first line of the UI: ${screen:0:100}"
printf '  %-34s %6s%% of a core   peak RSS %s MiB   ended %s after the pipeline\n' \
  "pipescope run (terminal UI)" "$cpu_tui" "$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')" "$(linger tui)"
printf '  %-34s %6s%% of a core   ended %s after the pipeline\n' \
  "pipescope run --plain (no UI)" "$cpu_plain" "$(linger plain)"
printf '  %-34s %6s%% of a core\n' "top -d 0.1 (peer UI, same rate)" "$cpu_top"
awk -v a="$cpu_tui" -v b="$cpu_plain" -v c="$cpu_top" 'BEGIN {
  printf "  the UI alone (terminal UI - plain): %.2f%% of a core; terminal UI / top: %.2fx\n", a - b, (c > 0 ? a / c : 0) }'

#!/usr/bin/env bash
# The `pipes` benchmark: `pipescope pipes --json > /dev/null` on the farm, side by side in
# one run with
#   - pipes_floor -r   the readlink-only floor (list every fd, readlink each),
#   - pipes_floor      that plus the least the pipes question needs (link lstat for a
#                      pipe's mode, a statx per path for FIFOs, fdinfo per socket),
#   - floor -i         the scan-speed yardstick (bench/floor.c): readlink and fdinfo of
#                      every fd,
#   - lsof -n -P +E    lsof's pipe endpoints,
#   - procfd --no-dns --json, and the same with --type pipe, when installed
#                      (`cargo install procfd`, or PROCFD=/path/to/procfd),
# and pipescope's peak RSS. Prints wall time (mean, min), CPU time (user+sys), and the
# ratios the goals name: pipescope within 1.3x of pipes_floor and at most 0.6x of
# `floor -i` (with the live state of every pipe end and every pipe's fill, as `pipes`
# now gives them), at least 5x faster than lsof and procfd, peak RSS at most 25 MiB.
#
#   bench/compare_pipes.sh                 # farm of 100 pipelines x 5 stages, 100 extra fds
#   RUNS=20 PIPELINES=50 bench/compare_pipes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PIPELINES=${PIPELINES:-100}
STAGES=${STAGES:-5}
EXTRA=${EXTRA:-100}
RUNS=${RUNS:-10}

for tool in hyperfine lsof cc python3; do
  if ! command -v "$tool" >/dev/null; then
    pkg=$tool; [ "$tool" = cc ] && pkg=gcc
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get install -y -qq "$pkg" >/dev/null
  fi
done
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

cargo build --release -q -p pipescope
bin=${CARGO_TARGET_DIR:-target}/release/pipescope
work=$(mktemp -d)
farm=""
cleanup() {
  if [ -n "$farm" ]; then kill -TERM "$farm" 2>/dev/null || true; wait "$farm" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -o "$work/pipes_floor" bench/pipes_floor.c
cc -O2 -o "$work/floor" bench/floor.c

# The farm's own stdio goes to a file: inherited by 500 processes, a pipe on stderr would
# become one more (huge) pipe to report.
python3 bench/farm.py --pipelines "$PIPELINES" --stages "$STAGES" --extra "$EXTRA" \
  --manifest "$work/farm.json" --timeout 1200 </dev/null >"$work/farm.log" 2>&1 &
farm=$!
for _ in $(seq 300); do [ -f "$work/farm.json" ] && break; sleep 0.2; done
[ -f "$work/farm.json" ] || { cat "$work/farm.log" >&2; echo "the farm did not start" >&2; exit 2; }
cat "$work/farm.log"
echo "machine: $("$work/pipes_floor")"

cmds=("$work/pipes_floor -r" "$work/pipes_floor" "$work/floor -i" "$bin pipes --json" "lsof -n -P +E")
names=("floor (readlink only)" "floor (pipes need)" "floor -i" "pipescope pipes --json" "lsof -n -P +E")
procfd_bin=${PROCFD:-$(command -v procfd || true)}
[ -z "$procfd_bin" ] && [ -x "$HOME/.cargo/bin/procfd" ] && procfd_bin=$HOME/.cargo/bin/procfd
peer_root=${XDG_CACHE_HOME:-$HOME/.cache}/pipescope-bench
[ -z "$procfd_bin" ] && [ -x "$peer_root/bin/procfd" ] && procfd_bin=$peer_root/bin/procfd
if [ -z "$procfd_bin" ] && [ "${INSTALL_PEERS:-1}" = 1 ]; then
  echo "procfd: installing it from crates.io into $peer_root (once; INSTALL_PEERS=0 skips)"
  if cargo install --quiet --root "$peer_root" procfd >"$work/procfd-install.log" 2>&1; then
    procfd_bin=$peer_root/bin/procfd
  else
    tail -3 "$work/procfd-install.log"
  fi
fi
if [ -n "$procfd_bin" ]; then
  cmds+=("$procfd_bin --no-dns --json" "$procfd_bin --type pipe --no-dns --json")
  names+=("procfd" "procfd --type pipe")
else
  echo "procfd: not installed (cargo install procfd), left out"
fi

hyperfine -N --style none --warmup 2 --runs "$RUNS" --output null \
  --export-json "$work/times.json" "${cmds[@]}" >/dev/null

# One look is the rule; a second (100 ms later) runs only when something on the machine
# looked stuck and needed confirming.
looks=$("$bin" pipes --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["looks"])')
echo "pipescope pipes --json took $looks look(s) at the live state"

rss=0
for _ in 1 2 3; do
  kib=$( { /usr/bin/time -f '%M' "$bin" pipes --json >/dev/null; } 2>&1 | tail -1)
  [ "$kib" -gt "$rss" ] && rss=$kib
done

python3 - "$work/times.json" "$rss" "${names[@]}" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
rss_kib = int(sys.argv[2])
names = sys.argv[3:]
rows = {}
print(f"{'command':26} {'mean ms':>9} {'min ms':>9} {'cpu ms':>9}")
for name, r in zip(names, results):
    cpu = (r["user"] + r["system"]) * 1000
    rows[name] = (r["mean"] * 1000, r["min"] * 1000, cpu)
    print(f"{name:26} {r['mean']*1000:9.1f} {r['min']*1000:9.1f} {cpu:9.1f}")
me = rows["pipescope pipes --json"]
floor = rows["floor (pipes need)"]
def ratio(a, b):
    return f"mean {a[0]/b[0]:.2f}x, min {a[1]/b[1]:.2f}x, cpu {a[2]/b[2]:.2f}x"
print()
print(f"pipescope / floor (pipes need): {ratio(me, floor)}   goal <= 1.3x")
print(f"pipescope / floor (readlink):   {ratio(me, rows['floor (readlink only)'])}")
print(f"pipescope / floor -i:           {ratio(me, rows['floor -i'])}   goal <= 0.6x")
for peer in ("lsof -n -P +E", "procfd", "procfd --type pipe"):
    if peer in rows:
        print(f"{peer} / pipescope: {ratio(rows[peer], me)}   goal >= 5x")
print(f"pipescope peak RSS: {rss_kib / 1024:.1f} MiB   goal <= 25 MiB")
EOF

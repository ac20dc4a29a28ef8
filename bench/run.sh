#!/usr/bin/env bash
# Runs the whole benchmark suite and rewrites bench/RESULTS.md.
#   bench/run.sh            (about 5.5 minutes on a 2-core machine)
# Environment: SOAK_SECONDS (default 60) for the headline soaks, SOAK_SHORT
# (default 20) for the other stuffing profiles, USB_SOAK_SECONDS (default 30)
# for the libusb + umockdev soak, WAKES (default 100000) and SPARSE_WAKES
# (default 20000) for the wake-latency runs.
# Builds the linux-release preset (Release: -O3, no sanitizers) first. Needs
# valgrind (callgrind) and umockdev; installs them from Debian when missing.
set -u -o pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build/linux-release
out=$root/build/bench
mkdir -p "$out"
raw=$out/results.txt
: >"$raw"

SOAK_SECONDS=${SOAK_SECONDS:-60}
SOAK_SHORT=${SOAK_SHORT:-20}
USB_SOAK_SECONDS=${USB_SOAK_SECONDS:-30}
WAKES=${WAKES:-100000}
SPARSE_WAKES=${SPARSE_WAKES:-20000}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need valgrind || ! need umockdev-wrapper; then
  apt-get update -qq && apt-get install -y -qq valgrind umockdev >/dev/null
fi

started=$(date +%s)
note() { printf '%s=%s\n' "$1" "$2" >>"$raw"; }
note meta.date "$(date -u '+%Y-%m-%d %H:%M UTC')"
note meta.cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
note meta.mhz "$(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
note meta.cores "$(nproc)"
note meta.kernel "$(uname -srm)"
note meta.compiler "$(cc --version | head -1)"
note meta.valgrind "$(valgrind --version 2>/dev/null)"
note meta.commit "$(git rev-parse --short HEAD 2>/dev/null)"
note meta.load_start "$(cut -d' ' -f1-3 /proc/loadavg)"

echo "== building the linux-release preset"
if ! cmake --preset linux-release >"$out/configure.log" 2>&1 ||
   ! cmake --build --preset linux-release >"$out/build.log" 2>&1; then
  echo "build failed; see $out/build.log" >&2
  exit 1
fi

# run SECTION COMMAND...: records the command, the load average and the exit
# status next to the command's key=value output.
run() {
  local section=$1
  shift
  echo "== $section: $*"
  note "cmd.$section" "$*"
  note "load.$section" "$(cut -d' ' -f1-3 /proc/loadavg)"
  local t0=$(date +%s)
  (cd "$build" && "$@") >>"$raw" 2>"$out/$section.err"
  local rc=$?
  note "rc.$section" "$rc"
  note "secs.$section" "$(($(date +%s) - t0))"
}

run paths_rx ./bench_paths rx 2000000 5
run paths_tx ./bench_paths tx 2000000 5

# Instructions per frame: callgrind's total for N frames minus a baseline
# run of 10,000 frames, divided by the difference.
callgrind() {
  local dir=$1 n=$2
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$dir.$n" \
    "$build/bench_paths" "$dir" "$n" 1 >/dev/null 2>"$out/callgrind.$dir.$n.err"
  grep -m1 '^summary:' "$out/callgrind.$dir.$n" | awk '{print $2}'
}
for dir in rx tx; do
  base=10000 big=210000
  echo "== callgrind $dir"
  note "cmd.callgrind_$dir" "valgrind --tool=callgrind ./bench_paths $dir $big 1  minus  ... $dir $base 1"
  a=$(callgrind "$dir" "$base") b=$(callgrind "$dir" "$big")
  note "callgrind.$dir.ir_baseline" "$a"
  note "callgrind.$dir.ir_total" "$b"
  note "callgrind.$dir.ir_per_frame" "$(awk -v a="$a" -v b="$b" -v n=$((big - base)) 'BEGIN{printf "%.0f", (b-a)/n}')"
  callgrind_annotate --inclusive=no "$out/callgrind.$dir.$big" >"$out/callgrind.$dir.annotate" 2>&1
done

# Wake latency on a 100 us grid (a busy bus) with the idle test, then on a
# 1 ms grid (sparse traffic); each against the same hand-off without the
# driver. Then what waking a thread at all costs here (the floor).
run wake ./bench_wake_latency "$WAKES" 10 100
run wake_sparse ./bench_wake_latency "$SPARSE_WAKES" 0 1000
run floor ./bench_wake_floor 3 3

run soak_long ./bench_soak_paced --seconds "$SOAK_SECONDS" std0-minstuff mixed
run soak_short ./bench_soak_paced --seconds "$SOAK_SHORT" std0-maxstuff std8-nostuff std8-maxstuff
run soak_usb env LD_PRELOAD=libumockdev-preload.so.0 ./bench_soak_usb --seconds "$USB_SOAK_SECONDS" std0-minstuff
echo "== cli: ./usb2can-cli bench"
note cmd.cli "./usb2can-cli bench"
(cd "$build" && ./usb2can-cli bench) >"$out/cli.txt" 2>&1
note rc.cli $?

note meta.load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
note meta.suite_seconds "$(($(date +%s) - started))"
# The socketcand section is measured by bench/serve_bench.py on its own
# (command and date in the section); it is kept as it is.
serve_section=$(sed -n '/^## socketcand server/,$p' "$root/bench/RESULTS.md" 2>/dev/null)
python3 "$root/bench/report.py" "$out" >"$root/bench/RESULTS.md"
if [ -n "$serve_section" ]; then
  printf '\n%s\n' "$serve_section" >>"$root/bench/RESULTS.md"
fi
echo "== wrote bench/RESULTS.md ($(($(date +%s) - started)) s)"

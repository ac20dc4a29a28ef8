#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian 12 machine (as root):
# installs the toolchain (scripts/bootstrap.sh), checks the C formatting
# (scripts/check-format.sh), builds every preset and runs its tests —
# natively, with ASan/UBSan, with TSan, the fuzzers, and the Windows builds
# under 32- and 64-bit Wine. Exits non-zero on any failure.
#
#   scripts/test.sh [--no-bootstrap] [STEP...]
#
# STEPs: format and the presets below; default all of them, in that order.
# --no-bootstrap: the toolchain is known to be there (a developer's rerun).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

# preset and the ctest label filter it runs ("" = every test of that build)
runs=(
  "linux|"
  "windows-x86|"
  "windows-x64|"
  "linux-tsan|"
  "linux-fuzz|fuzz"
  "linux-release|clients|unload"
)

all_steps=(format "${runs[@]%%|*}")
bootstrap=1 steps=()
for arg in "$@"; do
  if [ "$arg" = --no-bootstrap ]; then
    bootstrap=0
  elif [[ " ${all_steps[*]} " == *" $arg "* ]]; then
    steps+=("$arg")
  else
    echo "test.sh: unknown step '$arg' (the steps: ${all_steps[*]})" >&2
    exit 2
  fi
done
[ ${#steps[@]} -gt 0 ] || steps=("${all_steps[@]}")
wanted() { [[ " ${steps[*]} " == *" $1 "* ]]; }

if [ "$bootstrap" = 1 ]; then
  bash scripts/bootstrap.sh || exit 1
fi
mkdir -p build

export WINEPREFIX="$root/build/wineprefix"
export WINEDEBUG=-all
cleanup() { WINEPREFIX="$root/build/wineprefix" wineserver -k >/dev/null 2>&1 || true; }
if wanted windows-x86 || wanted windows-x64; then
  trap cleanup EXIT
  if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "[test] creating the Wine prefix $WINEPREFIX"
    mkdir -p "$WINEPREFIX"
    WINEDLLOVERRIDES="mscoree,mshtml=" wineboot -i >/dev/null 2>&1
    wineserver -w
  fi
fi

total_pass=0 total_fail=0 failed_steps=()

# Formatting is a step of its own: one check, passed or failed.
if wanted format; then
  echo "=== format: clang-format --dry-run --Werror over every tracked .c/.h"
  if bash scripts/check-format.sh >build/format.log 2>&1; then
    tail -1 build/format.log
    total_pass=$((total_pass + 1))
  else
    head -60 build/format.log
    [ "$(wc -l <build/format.log)" -le 60 ] || echo "... (all of it in build/format.log)"
    failed_steps+=(format)
    total_fail=$((total_fail + 1))
  fi
fi

for run in "${runs[@]}"; do
  preset=${run%%|*} label=${run#*|}
  wanted "$preset" || continue
  echo "=== $preset: configure and build"
  if ! cmake --preset "$preset" >"build/$preset.configure.log" 2>&1; then
    tail -40 "build/$preset.configure.log"; failed_steps+=("$preset(configure)"); total_fail=$((total_fail + 1)); continue
  fi
  if ! cmake --build --preset "$preset" >"build/$preset.build.log" 2>&1; then
    grep -E 'error|Error' "build/$preset.build.log" | head -40; failed_steps+=("$preset(build)"); total_fail=$((total_fail + 1)); continue
  fi
  echo "=== $preset: tests${label:+ labelled $label}"
  args=(--preset "$preset" --output-on-failure --no-tests=error)
  [ -n "$label" ] && args+=(-L "$label")
  ctest "${args[@]}" 2>&1 | tee "build/$preset.test.log"
  # ctest's exit status is the verdict; its summary line only feeds the counts.
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed_steps+=("$preset")
  summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "build/$preset.test.log" | tail -1)
  failed=$(sed -nE 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/p' <<<"$summary")
  all=$(sed -nE 's/.* failed out of ([0-9]+).*/\1/p' <<<"$summary")
  total_pass=$((total_pass + ${all:-0} - ${failed:-0})); total_fail=$((total_fail + ${failed:-0}))
done

echo
echo "=== summary"
[ ${#failed_steps[@]} -eq 0 ] || echo "failing: ${failed_steps[*]}"
echo "$total_pass passed, $total_fail failed"
[ ${#failed_steps[@]} -eq 0 ] && [ "$total_fail" -eq 0 ]

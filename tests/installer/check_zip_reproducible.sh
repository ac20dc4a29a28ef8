#!/usr/bin/env bash
# shellcheck disable=SC2154 # the options are set by u2c_test_args (verdict.sh)
# The portable zip is reproducible: scripts/make-zip.sh run twice on the same
# builds, at different times, writes the same bytes (docs/windows.md
# promises it; a time of the run, such as a file's access or change time,
# must not end up in the zip).
#
#   check_zip_reproducible.sh --x64 BUILD --x86 BUILD --work DIR
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=verdict.sh
. "$root/tests/installer/verdict.sh"
u2c_test_args "x64 x86 work" "$@"

rm -rf "$work"
for run in 1 2; do
  # A second apart: whatever the clock says at the time of a run differs.
  [ $run = 1 ] || sleep 1.1
  check "make-zip.sh, run $run" \
    bash "$root/scripts/make-zip.sh" --x64 "$x64" --x86 "$x86" --out "$work/$run" --force
done
zips=("$work"/1/*.zip)
second=$work/2/$(basename "${zips[0]}")
if cmp "${zips[0]}" "$second"; then
  pass "two runs wrote the same $(stat -c %s "$second") bytes ($(basename "$second"))"
else
  fail "two runs of make-zip.sh on the same builds wrote different zips"
fi
finish

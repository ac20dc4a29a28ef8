#!/usr/bin/env bash
# The portable zip is reproducible: scripts/make-zip.sh run twice on the same
# builds, at different times, writes the same bytes (docs/windows.md
# promises it; a time of the run, such as a file's access or change time,
# must not end up in the zip).
#
#   check_zip_reproducible.sh --x64 BUILD --x86 BUILD --work DIR
set -uo pipefail

x64='' x86='' work=''
while [ $# -gt 0 ]; do
  case $1 in
    --x64) x64=$2; shift 2 ;;
    --x86) x86=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "check_zip_reproducible.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [ -z "$x64" ] || [ -z "$x86" ] || [ -z "$work" ]; then
  echo "usage: check_zip_reproducible.sh --x64 BUILD --x86 BUILD --work DIR" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)

rm -rf "$work"
for run in 1 2; do
  # A second apart: whatever the clock says at the time of a run differs.
  [ $run = 1 ] || sleep 1.1
  if ! bash "$root/scripts/make-zip.sh" --x64 "$x64" --x86 "$x86" --out "$work/$run" --force; then
    echo "FAIL: make-zip.sh (run $run) failed"
    exit 1
  fi
done
zips=("$work"/1/*.zip)
second=$work/2/$(basename "${zips[0]}")
if cmp "${zips[0]}" "$second"; then
  echo "PASS: two runs wrote the same $(stat -c %s "$second") bytes ($(basename "$second"))"
else
  echo "FAIL: two runs of make-zip.sh on the same builds wrote different zips"
  exit 1
fi

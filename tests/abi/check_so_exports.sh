#!/usr/bin/env bash
# Asserts that libusb2can.so exports exactly the CANAL and usb2can names
# (the same set as usb2can.dll) and nothing of its internals.
#   check_so_exports.sh NM LIBRARY EXPECTED  (EXPECTED: "ordinal name" lines made from usb2can.def)
set -euo pipefail
nm=$1 lib=$2 expected=$3
actual=$("$nm" -D --defined-only "$lib" | awk '$2 ~ /^[TtDdBbRrVvWw]$/ {print $3}' | sort)
want=$(awk '{print $2}' "$expected" | sort)
if ! diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$actual"); then
  echo "FAIL: $lib exports differ from $expected" >&2
  exit 1
fi
echo "exports OK: $(printf '%s\n' "$actual" | wc -l) names"

#!/usr/bin/env bash
# Asserts that a usb2can.dll exports exactly the expected names at the
# expected ordinals, undecorated, and imports no MinGW runtime DLL.
#   check_export_table.sh OBJDUMP DLL EXPECTED
set -euo pipefail
objdump=$1 dll=$2 expected=$3
dump=$("$objdump" -p "$dll")

# "[Ordinal/Name Pointer] Table" lists "[ n] name" with n = ordinal - base.
base=$(printf '%s\n' "$dump" | sed -n 's/^Ordinal Base[[:space:]]*//p' | head -1)
actual=$(printf '%s\n' "$dump" |
  sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' |
  awk -v base="${base:-1}" 'match($0, /^[ \t]*\[[ ]*[0-9]+\][ \t]+[^ \t]+$/) {
      n = $0; sub(/^[ \t]*\[[ ]*/, "", n); name = n; sub(/\].*/, "", n)
      sub(/^[^\]]*\][ \t]+/, "", name); print n + base, name }' |
  sort -n)
if [ -z "$actual" ]; then
  echo "could not read the export table of $dll" >&2
  printf '%s\n' "$dump" | sed -n '/Export/,/^$/p' >&2
  exit 1
fi
if ! diff -u <(sort -n "$expected") <(printf '%s\n' "$actual"); then
  echo "FAIL: export table of $dll differs from $expected" >&2
  exit 1
fi
imports=$(printf '%s\n' "$dump" | sed -n 's/^[[:space:]]*DLL Name: //p')
if printf '%s\n' "$imports" | grep -Eiq 'libgcc|libwinpthread|libstdc|libusb|libcmocka|msys'; then
  echo "FAIL: $dll imports a runtime DLL it must carry statically:" >&2
  printf '%s\n' "$imports" >&2
  exit 1
fi
echo "export table OK: $(printf '%s\n' "$actual" | wc -l) names; imports: $(echo $imports)"

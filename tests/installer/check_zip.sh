#!/usr/bin/env bash
# shellcheck disable=SC2154 # the options are set by u2c_test_args (verdict.sh)
# The portable package usb2can-<version>-windows.zip: exactly the files its
# README promises, in the right places and of the right architecture.
#
#   check_zip.sh --zip ZIP --version X.Y.Z --source DIR --x64 BUILD --exports EXPECTED
#
# Checks, each printing PASS or FAIL (the exit status is 1 if any failed):
#   - the file list, exactly (docs/ holds the source's docs/*.md);
#   - x64/ holds 64-bit PE files, x86/ 32-bit ones (DLL and CLI), and the
#     import libraries in lib/x64 and lib/x86 are of the same architectures;
#   - each DLL exports every name of EXPECTED at its ordinal, undecorated,
#     and imports no MinGW runtime DLL (tests/abi/check_export_table.sh);
#   - each import library, MSVC and MinGW, resolves every export name;
#   - the headers, README, LICENSE and docs are the source's (usb2can.h the
#     build's generated one).
set -uo pipefail

# shellcheck source=verdict.sh
. "$(dirname "$0")/verdict.sh"
u2c_test_args "zip version source x64 exports" "$@"

if [ ! -f "$zip" ]; then
  fail "$zip does not exist (build windows-x86, then windows-x64; scripts/build.sh does both)"
  finish
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
top=usb2can-$version-windows

# --- the file list ------------------------------------------------------------
expected=$(
  for f in README.md LICENSE example_python_can.py include/canal.h include/usb2can.h; do
    echo "$top/$f"
  done
  for arch in x64 x86; do
    echo "$top/$arch/usb2can.dll"
    echo "$top/$arch/usb2can-cli.exe"
    echo "$top/lib/$arch/usb2can.lib"
    echo "$top/lib/$arch/libusb2can.dll.a"
  done
  if [ -d "$source/docs" ]; then
    find "$source/docs" -maxdepth 1 -name '*.md' -printf "$top/docs/%f\n"
  fi
)
actual=$(cd "$work" && cmake -E tar tf "$zip" 2>/dev/null)
if diff -u <(LC_ALL=C sort <<<"$expected") <(LC_ALL=C sort <<<"$actual" | grep -v '/$'); then
  pass "the zip holds exactly the $(wc -l <<<"$expected") files the README lists"
else
  fail "the zip's files differ from the list above (- expected, + in the zip)"
fi
(cd "$work" && cmake -E tar xf "$zip") || { fail "cannot extract $zip"; finish; }
root=$work/$top

# --- architectures --------------------------------------------------------------
objdump=x86_64-w64-mingw32-objdump
format_of() { "$objdump" -f "$1" 2>/dev/null | sed -n 's/.*file format //p' | sort -u | tr '\n' ' '; }
check_format() { # FILE WANTED
  local got
  got=$(format_of "$1")
  if [ "$got" = "$2 " ]; then pass "${1#"$work"/} is $2"; else fail "${1#"$work"/} is '$got', not $2"; fi
}
for f in usb2can.dll usb2can-cli.exe; do
  check_format "$root/x64/$f" pei-x86-64
  check_format "$root/x86/$f" pei-i386
done
# An import library's members: object files (pe-*) and, in usb2can.lib, the
# DLL's own header stub (pei-*); all of one architecture.
check_library() { # FILE ARCH
  local got
  got=$(format_of "$1")
  if [ -n "$got" ] && [ -z "$(tr ' ' '\n' <<<"$got" | grep -v -x -e '' -e "pe-$2" -e "pei-$2")" ]; then
    pass "${1#"$work"/} holds $2 members only"
  else
    fail "${1#"$work"/} holds '$got', not $2 only"
  fi
}
for f in usb2can.lib libusb2can.dll.a; do
  check_library "$root/lib/x64/$f" x86-64
  check_library "$root/lib/x86/$f" i386
done

# --- exports ----------------------------------------------------------------------
for arch in x64 x86; do
  if out=$(bash "$source/tests/abi/check_export_table.sh" "$objdump" "$root/$arch/usb2can.dll" \
    "$exports" 2>&1); then
    pass "$arch/usb2can.dll exports every name of $(basename "$exports") at its ordinal"
  else
    fail "$arch/usb2can.dll export table: $out"
  fi
done
nm=x86_64-w64-mingw32-nm
for arch in x64 x86; do
  for lib in usb2can.lib libusb2can.dll.a; do
    symbols=$("$nm" "$root/lib/$arch/$lib" 2>/dev/null)
    missing=()
    while read -r _ name; do
      # x64: __imp_CanalOpen; x86 stdcall: __imp__CanalOpen@8
      grep -Eq "__imp__?${name}(@[0-9]+)?\$" <<<"$symbols" || missing+=("$name")
    done <"$exports"
    if [ ${#missing[@]} -eq 0 ]; then
      pass "lib/$arch/$lib resolves every export"
    else
      fail "lib/$arch/$lib lacks: ${missing[*]}"
    fi
  done
done

# --- headers and documents ------------------------------------------------------------
same() { # ZIPPED SOURCE
  if cmp -s "$1" "$2"; then pass "${1#"$work"/} is $2"; else fail "${1#"$work"/} differs from $2"; fi
}
same "$root/include/canal.h" "$source/include/canal.h"
same "$root/include/usb2can.h" "$x64/generated/include/usb2can.h"
same "$root/README.md" "$source/README.md"
same "$root/LICENSE" "$source/LICENSE"
same "$root/example_python_can.py" "$source/installer/example_python_can.py"
if [ -d "$source/docs" ]; then
  for d in "$source"/docs/*.md; do
    [ -f "$d" ] && same "$root/docs/$(basename "$d")" "$d"
  done
fi
finish

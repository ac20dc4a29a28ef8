#!/usr/bin/env bash
# shellcheck disable=SC2154 # the options are set by u2c_test_args (verdict.sh)
# Both packaging scripts refuse builds they must not package, each with exit
# status 1, a reason naming the problem, and no package written:
#   - a build without usb2can-cli.exe (the CLI is part of the product);
#   - a binary of the wrong architecture in a build;
#   - builds of different versions.
# Works on copies of the builds' outputs in WORK; the builds are not touched.
#
#   check_package_refusals.sh --x64 BUILD --x86 BUILD --work DIR
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=verdict.sh
. "$root/tests/installer/verdict.sh"
u2c_test_args "x64 x86 work" "$@"

# fresh_copies: WORK/x64 and WORK/x86 hold what the scripts read of each build.
fresh_copies() {
  local arch build
  rm -rf "$work"
  for arch in x64 x86; do
    build=$x64
    [ $arch = x86 ] && build=$x86
    mkdir -p "$work/$arch"
    cp -r "$build/usb2can.dll" "$build/usb2can-cli.exe" "$build/implib" "$build/package.txt" \
      "$work/$arch/"
  done
  cp -r "$x64/generated" "$work/x64/"
}

# expect_refusal WHAT REASON: both scripts exit 1, say REASON (a regular
# expression) and write nothing.
expect_refusal() {
  local script out rc
  for script in make-zip.sh make-installer.sh; do
    out=$(bash "$root/scripts/$script" --x64 "$work/x64" --x86 "$work/x86" --out "$work/out" 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && grep -Eq "$2" <<<"$out" && [ -z "$(ls -A "$work/out" 2>/dev/null)" ]; then
      pass "$script refuses $1: $out"
    else
      fail "$script on $1: exit $rc (expected 1), said '$out' (expected /$2/), wrote: $(ls -A "$work/out" 2>/dev/null)"
    fi
  done
}

fresh_copies
rm "$work/x86/usb2can-cli.exe"
expect_refusal "an x86 build without the CLI" "missing .*x86/usb2can-cli\.exe"

fresh_copies
rm "$work/x64/usb2can-cli.exe"
expect_refusal "an x64 build without the CLI" "missing .*x64/usb2can-cli\.exe"

fresh_copies
cp "$work/x64/usb2can-cli.exe" "$work/x86/usb2can-cli.exe"
expect_refusal "a 64-bit CLI in the x86 build" "x86/usb2can-cli\.exe is not a 32-bit binary"

fresh_copies
cp "$work/x86/usb2can.dll" "$work/x64/usb2can.dll"
expect_refusal "a 32-bit DLL in the x64 build" "x64/usb2can\.dll is not a 64-bit binary"

fresh_copies
sed -i 's/^version=.*/version=0.0.1/' "$work/x86/package.txt"
expect_refusal "builds of different versions" "windows-x86 build has version=0\.0\.1 where windows-x64 has version="

rm -rf "$work"
finish

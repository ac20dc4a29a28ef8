#!/usr/bin/env bash
# Builds the Windows installer usb2can-setup-<version>.exe from the outputs of
# the windows-x86 and windows-x64 builds: installer/usb2can.nsi over the
# payload of scripts/lib/package.sh (what the portable zip holds).
#
#   scripts/make-installer.sh [--x86 DIR] [--x64 DIR] [--out DIR] [--version X.Y.Z]
#                             [--if-x86-built] [--force]
#
# The options are scripts/lib/package.sh's. The list of files the installer
# installs and the uninstaller removes is written from the staged payload
# (payload.nsh), so it cannot drift from what is packaged.
set -euo pipefail
# shellcheck source=lib/package.sh
. "$(dirname "$0")/lib/package.sh"

u2c_package_args installer "$@"
u2c_package_check

setup=$out/$product-setup-$version.exe
u2c_package_fresh "$setup" "$u2c_root/installer/usb2can.nsi" && exit 0

stage=$(mktemp -d "$out/.usb2can-setup.XXXXXX")
trap 'rm -rf "$stage"' EXIT
payload=$stage/payload
u2c_package_stage "$payload"

# payload.nsh: U2C_PAYLOAD_FILES ACTION runs ACTION "DIR" "NAME" for every
# file under $INSTDIR (DIR relative to it and to the payload, "" for the top);
# U2C_PAYLOAD_FOLDERS removes its folders, deepest first, when empty. The
# DLLs are not among them: usb2can.nsi puts them in the system folders.
{
  echo "; Written by scripts/make-installer.sh from the staged payload."
  echo '!macro U2C_PAYLOAD_FILES ACTION'
  (cd "$payload" && find . -type f ! -name usb2can.dll | sed 's|^\./||' | LC_ALL=C sort) |
    while read -r file; do
      dir=$(dirname "$file")
      [ "$dir" = . ] && dir=
      # shellcheck disable=SC2016 # NSIS text, not shell
      printf '  !insertmacro ${ACTION} "%s" "%s"\n' "${dir//\//\\}" "$(basename "$file")"
    done
  echo '!macroend'
  echo '!macro U2C_PAYLOAD_FOLDERS'
  (cd "$payload" && find . -mindepth 1 -type d | sed 's|^\./||' | LC_ALL=C sort -r) |
    while read -r dir; do
      # shellcheck disable=SC2016 # NSIS text, not shell
      printf '  RMDir "$INSTDIR\\%s"\n' "${dir//\//\\}"
    done
  echo '!macroend'
} >"$stage/payload.nsh"

makensis -V2 -NOCD -DPRODUCT="$product" -DVERSION="$version" -DPUBLISHER="$publisher" \
  -DCOPYRIGHT="$copyright" -DPAYLOAD="$payload" -DPAYLOAD_LIST="$stage/payload.nsh" \
  -DOUTFILE="$setup.tmp" "$u2c_root/installer/usb2can.nsi"
mv "$setup.tmp" "$setup"
echo "make-installer.sh: wrote $setup"

#!/usr/bin/env bash
# Builds the portable package usb2can-<version>-windows.zip from the outputs
# of the windows-x86 and windows-x64 builds, for people who put usb2can.dll
# next to their program instead of running the installer. It holds the
# payload of scripts/lib/package.sh (what the installer installs) under
# usb2can-<version>-windows/.
#
#   scripts/make-zip.sh [--x86 DIR] [--x64 DIR] [--out DIR] [--version X.Y.Z]
#                       [--if-x86-built] [--force]
#
# The options are scripts/lib/package.sh's. Every file gets the x64 DLL's
# time and the list is sorted: the same inputs give the same zip.
set -euo pipefail
# shellcheck source=lib/package.sh
. "$(dirname "$0")/lib/package.sh"

u2c_package_args zip "$@"
u2c_package_check

name=$product-$version-windows
zip=$out/$name.zip
u2c_package_fresh "$zip" && exit 0

stage=$(mktemp -d "$out/.usb2can-zip.XXXXXX")
trap 'rm -rf "$stage"' EXIT
u2c_package_stage "$stage/$name"
find "$stage/$name" -exec touch -h -d @"$(stat -c %Y "$x64/usb2can.dll")" {} +
(cd "$stage" && find "$name" -type f | LC_ALL=C sort >"$stage/files.txt" &&
  cmake -E tar cf "$zip.tmp" --format=zip --files-from="$stage/files.txt")
mv "$zip.tmp" "$zip"
echo "make-zip.sh: wrote $zip"

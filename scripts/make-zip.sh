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
# The options are scripts/lib/package.sh's. The same inputs give the same
# zip, byte for byte (tests/installer/check_zip_reproducible.sh).
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
# Written by Python's zipfile, each entry with the x64 DLL's time and fixed
# permissions, in sorted order: nothing of the run (cmake -E tar would record
# each file's access and change times) gets in.
(cd "$stage" && find "$name" -type f | LC_ALL=C sort |
  python3 -c '
import sys, time, zipfile
out, stamp = sys.argv[1], time.gmtime(int(sys.argv[2]))[:6]
with zipfile.ZipFile(out, "w") as package:
    for name in sys.stdin.read().splitlines():
        entry = zipfile.ZipInfo(name, stamp)
        entry.external_attr = 0o644 << 16
        entry.compress_type = zipfile.ZIP_DEFLATED
        with open(name, "rb") as f:
            package.writestr(entry, f.read())
' "$zip.tmp" "$(stat -c %Y "$x64/usb2can.dll")")
mv "$zip.tmp" "$zip"
echo "make-zip.sh: wrote $zip"

#!/usr/bin/env bash
# Builds everything on a fresh Debian 12 machine (as root) and shows it
# working on the virtual adapter:
#   build/windows-x86/usb2can.dll, build/windows-x64/usb2can.dll,
#   build/linux-release/libusb2can.so, the usb2can-cli of each,
#   build/usb2can-setup-<version>.exe, build/usb2can-<version>-windows.zip
#   (the portable package: both DLLs, both CLIs, headers, import libraries, docs),
# then runs usb2can-cli against two virtual adapters.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/bootstrap.sh

for preset in windows-x86 windows-x64 linux-release; do
  echo "=== building $preset"
  cmake --preset "$preset" >"build/$preset.configure.log"
  cmake --build --preset "$preset"
done

echo "=== the portable zip"
bash scripts/make-zip.sh

if [ -x scripts/make-installer.sh ]; then
  echo "=== building the installer"
  bash scripts/make-installer.sh
fi

echo
echo "=== demo: the virtual adapter (no hardware needed)"
bash scripts/demo.sh "$root/build/linux-release"

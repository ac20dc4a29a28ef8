#!/usr/bin/env bash
# Shows usb2can working without hardware: virtual adapters VIRTUAL0..7 share
# one CAN bus inside a process, so usb2can-cli runs a monitor and senders
# together ('+'). Runs the Linux build, then both Windows DLLs under Wine.
#   scripts/demo.sh [LINUX_BUILD_DIR]      (default build/linux-release)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/linux-release}
cli=$build/usb2can-cli

show() {
  printf '\n$ %s\n' "$*"
  "$@"
  printf '[exit status %d]\n' "$?"
}

show "$cli" --version
show "$cli" list
show "$cli" monitor "VIRTUAL1;500" --count 5 \
  + send "VIRTUAL0;500" 123#1122334455667788 --count 3 --interval 10 \
  + send "VIRTUAL2;500" 1F334455#R \
  + send "VIRTUAL0;500" 7FF#
echo
echo "A sender alone on the bus gets no ACK; the driver says so:"
show "$cli" send "VIRTUAL5;500" 321#CAFE --count 100
show "$cli" bench --frames 5000 --samples 200

export WINEPREFIX=${WINEPREFIX:-$root/build/wineprefix}
for arch in x64 x86; do
  exe=$root/build/windows-$arch/usb2can-cli.exe
  [ -f "$exe" ] || continue
  echo
  echo "The $arch usb2can.dll under Wine:"
  show "$root/scripts/wine-run.sh" "$exe" monitor "VIRTUAL1;1000" --count 2 \
    + send "VIRTUAL0;1000" 18DAF110#0210030000000000 --count 2
done
wineserver -k >/dev/null 2>&1 || true

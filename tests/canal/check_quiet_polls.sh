#!/bin/sh
# Runs quiet_polls and counts the reasons it reported outside the last-error
# text: on Windows (under Wine) the OutputDebugString calls, as Wine traces
# them with WINEDEBUG=+debugstr; elsewhere the lines in the USB2CAN_LOG file.
# Routine FIFO_EMPTY/TIMEOUT results must not be there; the one real failure
# at the end must be (so the count is known to work).
#   check_quiet_polls.sh windows|posix <work dir> <program> [runner...]
mode=$1 work=$2 program=$3
shift 3
mkdir -p "$work"
out=$work/quiet_polls.trace
rm -f "$out"
if [ "$mode" = windows ]; then
  WINEDEBUG=+debugstr "$@" "$program" 2>"$out" >/dev/null || { echo "quiet_polls failed"; cat "$out" | grep -v debugstr | tail -5; exit 1; }
  reported=$(grep -c 'usb2can: ' "$out")
else
  USB2CAN_LOG=$out "$@" "$program" >/dev/null || { echo "quiet_polls failed"; exit 1; }
  reported=$(grep -c 'usb2can: ' "$out" 2>/dev/null || true)
fi
echo "reasons reported outside the last error: $reported"
grep 'usb2can: ' "$out" | head -3
if [ "$reported" -ne 1 ]; then
  echo "expected exactly 1 (the failed CanalSend), not one per empty poll"
  exit 1
fi
exit 0

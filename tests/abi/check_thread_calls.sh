#!/usr/bin/env bash
# A DLL with a TLS directory (static TLS: MinGW's TLS support, __thread or
# __declspec(thread)) cannot opt out of thread notifications: Windows fails
# DisableThreadLibraryCalls for it. Asserts usb2can.dll does not claim to.
#   check_thread_calls.sh OBJDUMP DLL
set -euo pipefail
objdump=$1 dll=$2
dump=$("$objdump" -p "$dll")
tls=$(printf '%s\n' "$dump" | awk '/Thread Storage Directory/ && $3 !~ /^0+$/ {print $3}')
imports_call=$(printf '%s\n' "$dump" | grep -cw 'DisableThreadLibraryCalls' || true)
if [ -n "$tls" ] && [ "$imports_call" -gt 0 ]; then
  echo "FAIL: $dll has static TLS (TLS directory at $tls) and calls DisableThreadLibraryCalls," >&2
  echo "which Windows refuses for a DLL with static TLS" >&2
  exit 1
fi
echo "thread notifications OK: TLS directory ${tls:-none}, DisableThreadLibraryCalls imported $imports_call time(s)"

#!/usr/bin/env bash
# Runs exit_blocked (through the emulator, if any) and checks that it ends
# with status 7 within BUDGET_MS of its start.
#   check_exit_status.sh BUDGET_MS PROGRAM [EMULATOR...]
set -uo pipefail
budget_ms=$1 program=$2
shift 2
start=$(date +%s%N)
timeout 60 "$@" "$program"
rc=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "exit status $rc after $elapsed_ms ms (expected 7 within $budget_ms ms)"
if [ "$rc" -eq 124 ]; then
  echo "FAIL: the program did not end within 60 s" >&2
  exit 1
fi
if [ "$rc" -ne 7 ]; then
  echo "FAIL: exit status $rc, not the worker's exit(7)" >&2
  exit 1
fi
if [ "$elapsed_ms" -gt "$budget_ms" ]; then
  echo "FAIL: took $elapsed_ms ms" >&2
  exit 1
fi

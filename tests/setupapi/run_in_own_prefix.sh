#!/bin/sh
# Runs a Windows test program under Wine in a prefix of its own (so the fake
# adapters it seeds stay there), then stops that prefix's wineserver, which
# would otherwise outlive the run. Exits with the program's status.
#   run_in_own_prefix.sh <prefix> <runner> <program> [arguments...]
prefix=$1
shift
WINEPREFIX=$prefix
export WINEPREFIX
"$@"
status=$?
wineserver -k 2>/dev/null
exit $status

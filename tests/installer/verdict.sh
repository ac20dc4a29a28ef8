# shellcheck shell=bash
# Sourced by the scripts of tests/installer: their command line and their
# verdict, one way for all.
#
#   u2c_test_args "NAME..." "$@"   every --NAME VALUE of the command line into
#                                  the variable NAME; each NAME is required
#   pass TEXT, fail TEXT           one step's result, printed as PASS:/FAIL:
#   check TEXT COMMAND...          runs COMMAND: PASS if it succeeds
#   finish                         "<script>: N passed, N failed"; exits 0 only
#                                  when something passed and nothing failed

u2c_test_name=${0##*/}
passed=0 failed=0

u2c_test_args() {
  local names=" $1 " name usage
  shift
  usage="usage: $u2c_test_name$(for name in $names; do printf ' --%s %s' "$name" "${name^^}"; done)"
  for name in $names; do printf -v "$name" '%s' ''; done
  while [ $# -gt 0 ]; do
    name=${1#--}
    if [ "$1" = "--$name" ] && [[ $names == *" $name "* ]] && [ $# -ge 2 ]; then
      printf -v "$name" '%s' "$2"
      shift 2
    else
      echo "$u2c_test_name: unknown argument or missing value '$1'" >&2
      echo "$usage" >&2
      exit 2
    fi
  done
  for name in $names; do
    if [ -z "${!name}" ]; then
      echo "$usage" >&2
      exit 2
    fi
  done
}

pass() {
  echo "PASS: $*"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
  echo "$u2c_test_name: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
  exit $?
}

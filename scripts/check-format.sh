#!/usr/bin/env bash
# Checks that every tracked C file (.c, .h) is formatted as .clang-format
# says, changing nothing: clang-format's dry run prints each difference, and
# the exit status is 1 if there is one (run `clang-format -i FILE` to fix).
#
#   scripts/check-format.sh
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t files < <(git ls-files -- '*.c' '*.h')
if [ ${#files[@]} -eq 0 ]; then
  echo "check-format.sh: no tracked .c/.h files (is $(pwd) a git checkout?)" >&2
  exit 2
fi
if clang-format --dry-run --Werror "${files[@]}"; then
  echo "check-format.sh: ${#files[@]} files, formatted as .clang-format says"
else
  echo "check-format.sh: the files above differ from .clang-format's layout ($(clang-format --version))"
  exit 1
fi

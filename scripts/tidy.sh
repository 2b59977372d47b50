#!/usr/bin/env bash
# clang-tidy 16 (Debian 12) over vendo's own sources, with the checks in .clang-tidy.
#
#   scripts/tidy.sh BUILD_DIR [FILE...]
#
# BUILD_DIR holds compile_commands.json. Without FILEs: every .cc that git tracks under src/,
# tests/, bench/ and samples/. Prints each warning in vendo's files once and exits 1 if there
# is any. clang 16 reads libstdc++ 12's <expected> once told that concepts are complete, and
# knows C++23 as c++2b (decisions.md #12). Warnings inside system headers (a Boost coroutine
# path the analyzer cannot follow) are not vendo's and are not counted.
set -euo pipefail

build=${1:?usage: scripts/tidy.sh BUILD_DIR [FILE...]}
shift
if [[ ! -f "$build/compile_commands.json" ]]; then
  echo "tidy: $build/compile_commands.json is missing; configure first" >&2
  exit 2
fi
if (($# > 0)); then
  files=("$@")
else
  mapfile -t files < <(git ls-files 'src/*.cc' 'tests/*.cc' 'bench/*.cc' 'samples/*.cc')
fi
jobs=${JOBS:-$(nproc)}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "tidy: ${#files[@]} files, $jobs at a time" >&2
# One clang-tidy per file pair, each given 10 minutes; one that runs out is reported.
run() {
  timeout 600 clang-tidy-16 -p "$build" --quiet --extra-arg=-std=c++2b \
    --extra-arg=-U__cpp_concepts --extra-arg=-D__cpp_concepts=202002L "$@" 2>/dev/null
  if (($? == 124)); then echo "tidy-timeout: $*"; fi
  return 0
}
export -f run
export build
printf '%s\0' "${files[@]}" | xargs -0 -P "$jobs" -n 2 bash -c 'run "$@"' _ >"$out"

if grep "^tidy-timeout:" "$out" >&2; then
  echo "tidy: clang-tidy ran out of time on the files above" >&2
  exit 1
fi
root=$(pwd)
mapfile -t warnings < <(grep -E "^($root/)?(src|include|tests|bench|samples)/[^:]+:[0-9]+:[0-9]+: (warning|error):" "$out" |
                        sed "s|^$root/||" | sort -u)
if ((${#warnings[@]} > 0)); then
  printf '%s\n' "${warnings[@]}"
  echo "tidy: ${#warnings[@]} warnings" >&2
  exit 1
fi
echo "tidy: clean" >&2

#!/usr/bin/env bash
# clang-tidy over the project's own C++ sources (not tests, not generated skeletons), using the
# build's compile_commands.json. Any finding fails (.clang-tidy sets WarningsAsErrors).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
[[ -f $build_dir/compile_commands.json ]] || { echo "tidy.sh: no $build_dir/compile_commands.json; build first" >&2; exit 2; }
mapfile -t sources < <(git ls-files 'userspace/*.cc' 'forktop/*.cc')
echo "clang-tidy: ${#sources[@]} files"
printf '%s\n' "${sources[@]}" |
  xargs -P "$(nproc)" -n 4 clang-tidy -p "$build_dir" --quiet 2>/dev/null

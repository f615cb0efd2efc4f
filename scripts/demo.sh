#!/usr/bin/env bash
# The README's first command: installs dependencies, builds, and shows shim-bpf working on the
# examples. Until `shim-bpf run` lands, the demo validates every example spec and shows what a
# broken spec looks like; once `run` exists this script runs the echo example for real.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
build_dir=${SHIM_BUILD_DIR:-build}
echo "== building (Release) in $build_dir"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" --parallel "$(nproc)" >/dev/null
shim="$build_dir/shim-bpf"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "$shim" --version
"$shim" --version

step "$shim" validate "$build_dir"/examples/*/spec.json
"$shim" validate "$build_dir"/examples/*/spec.json

broken=$(mktemp --suffix=.json)
trap 'rm -f "$broken"' EXIT
cat > "$broken" <<'JSON'
{
  "binary": "/bin/true",
  "entrypoints": {
    "listener": {"args": ["BinaryName", {"Pipe": {"Tx": "jobs"}}], "envirnoment": ["Stdout"]},
    "worker": {"trigger": {"Pipe": "job"}, "args": ["Trigger"], "limits": {"memory": "64 MB"}}
  }
}
JSON
step "$shim" validate "$broken" "  # a spec with four mistakes"
cat "$broken"
if "$shim" validate "$broken"; then
  echo "demo: the broken spec was accepted" >&2
  exit 1
fi
echo "(exit status 1: invalid, every problem reported at once with its JSON pointer)"

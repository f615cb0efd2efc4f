#!/usr/bin/env bash
# The README's first command: installs dependencies, builds, and runs the echo example under
# shim-bpf: a listener void accepts TCP connections and hands each one to the shim, which starts a
# brand-new, privilege-dropped handler void per connection. A real client (socat) talks to it;
# the events show one distinct handler process per connection; then the run is stopped cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
build_dir=${SHIM_BUILD_DIR:-build}
echo "== building (Release) in $build_dir"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" --parallel "$(nproc)" >/dev/null
shim="$build_dir/shim-bpf"
port=${SHIM_DEMO_PORT:-8080}

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
if [[ $(id -u) != 0 ]]; then
  echo "demo: shim-bpf run needs root (namespaces, cgroups, BPF); run this as root" >&2
  exit 2
fi

work=$(mktemp -d)
supervisor=
cleanup() {
  if [[ -n $supervisor ]] && kill -0 "$supervisor" 2>/dev/null; then
    kill -TERM "$supervisor" 2>/dev/null || true
    wait "$supervisor" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

bold "1. The spec: a listener, and one handler per connection"
sed "s/127.0.0.1:8080/127.0.0.1:$port/" "$build_dir/examples/echo/spec.json" > "$work/spec.json"
cp "$build_dir/examples/echo/echo" "$work/echo"
cat "$work/spec.json"
"$shim" validate "$work/spec.json"

bold "2. shim-bpf run $work/spec.json --events events.jsonl"
"$shim" run "$work/spec.json" --events "$work/events.jsonl" --grace 1s &
supervisor=$!
for _ in $(seq 50); do
  grep -q '"entrypoint":"connection_listener"' "$work/events.jsonl" 2>/dev/null && break
  sleep 0.1
done
sleep 0.2

bold "3. Five clients (socat), each echoed by its own handler void"
for i in 1 2 3 4 5; do
  reply=$(printf 'hello from client %d\n' "$i" | timeout 5 socat -t2 - "TCP:127.0.0.1:$port")
  echo "client $i got back: $reply"
done

bold "4. What shim-bpf saw (--events): one fresh handler process per connection"
sleep 0.3
python3 - "$work/events.jsonl" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
for e in events:
    if e["event"] in ("spawn", "exit"):
        detail = f"pid {e['pid']}"
        if e["event"] == "exit":
            detail += f", exit {e.get('exit_code', 'signal %s' % e.get('signal'))}, {e['duration_ms']:.1f} ms"
        print(f"  {e['event']:5} {e['instance']:24} {detail}")
handlers = {e["pid"] for e in events if e["event"] == "spawn" and e["entrypoint"] == "request_handler"}
print(f"  -> {len(handlers)} connections, {len(handlers)} distinct handler processes")
PY

bold "5. Stopping the run (SIGTERM): handlers finish, the rest is killed, nothing is left"
kill -TERM "$supervisor"
status=0
wait "$supervisor" || status=$?
supervisor=
echo "shim-bpf exited with status $status"
leftover=$(find /sys/fs/cgroup/ -maxdepth 6 -path '*shim-bpf/*' -type d 2>/dev/null | wc -l)
echo "cgroups of the run left behind: $leftover"

bold "6. Every bad spec is reported at once, with its JSON pointer"
cat > "$work/broken.json" <<'JSON'
{
  "binary": "/bin/true",
  "entrypoints": {
    "listener": {"args": ["BinaryName", {"Pipe": {"Tx": "jobs"}}], "envirnoment": ["Stdout"]},
    "worker": {"trigger": {"Pipe": "job"}, "args": ["Trigger"], "limits": {"memory": "64 MB"}}
  }
}
JSON
"$shim" validate "$work/broken.json" || echo "(exit status $?: invalid)"

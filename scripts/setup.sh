#!/usr/bin/env bash
# Installs every build, test and demo dependency from Debian's packages. Idempotent and quiet:
# when everything is present it only checks and returns.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang llvm lld libclang-rt-14-dev
  clang-format clang-tidy
  # BPF
  libbpf-dev bpftool libelf-dev zlib1g-dev
  # userspace libraries
  libseccomp-dev libabsl-dev nlohmann-json3-dev libcli11-dev libvalijson-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # tests and demo: real clients, terminals, namespaces
  socat netcat-openbsd curl tmux iproute2 procps util-linux python3 jq
  # the real programs the recipes (docs/recipes.md) run in voids
  busybox sqlite3
  # what bench/run.sh compares against and plots with
  bubblewrap firejail hyperfine python3-matplotlib nftables libbpf-tools
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Installs the Debian 12 packages liveorigin needs to build, test and run.
# Idempotent and quiet when everything is present. Needs root (or sudo) only
# when something is missing.
#   scripts/setup-deps.sh          build + test dependencies, including clang and
#                                  its libFuzzer runtime (scripts/test.sh all fuzzes)
#   scripts/setup-deps.sh --bench  also wrk and nginx for scripts/bench.sh
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-system-dev          # Beast + Asio (header-only, Boost 1.74)
  librocksdb-dev                            # storage
  libspdlog-dev libfmt-dev                  # logging
  nlohmann-json3-dev                        # JSON
  libyaml-cpp-dev                           # configuration
  libcli11-dev                              # command line
  libxxhash-dev                             # content hashes (ETags)
  prometheus-cpp-dev                        # /metrics
  libgtest-dev libgmock-dev                 # tests
  ffmpeg curl                               # media fixtures, integration tests
  python3                                   # crash-test load client, mutation check
  clang libclang-rt-14-dev                  # libFuzzer targets (scripts/fuzz.sh)
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(wrk nginx-light libbenchmark-dev bc iproute2)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "Installing: ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

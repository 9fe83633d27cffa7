#!/usr/bin/env bash
# Installs the Debian 12 packages liveorigin needs to build, test and run.
# Idempotent and quiet when everything is present. Needs root (or sudo) only
# when something is missing.
#   scripts/setup-deps.sh               build + test dependencies, including clang
#                                       and its libFuzzer runtime (test.sh all fuzzes)
#   scripts/setup-deps.sh --build-only  only what building the liveorigin binary
#                                       needs (no ffmpeg, GoogleTest, python3,
#                                       curl, git): the Docker build stage
#   scripts/setup-deps.sh --bench       also wrk and nginx for scripts/bench.sh
#   scripts/setup-deps.sh --fuzz        accepted for compatibility (clang is a test dependency)
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build pkg-config
  libboost-dev libboost-system-dev          # Beast + Asio (header-only, Boost 1.74)
  librocksdb-dev                            # storage
  libspdlog-dev libfmt-dev                  # logging
  nlohmann-json3-dev                        # JSON
  libyaml-cpp-dev                           # configuration
  libcli11-dev                              # command line
  libxxhash-dev                             # content hashes (ETags)
  libssl-dev                                # SHA-256/512 for Content-Digest (RFC 9530)
  zlib1g-dev                                # Content-Encoding: gzip on ingest
  prometheus-cpp-dev                        # /metrics
  libnats-dev                               # storage.engine: nats (SPEC §10)
  libjemalloc-dev                           # the daemon's allocator (README "Memory")
)
test_packages=(
  git
  libgtest-dev libgmock-dev                 # tests
  ffmpeg curl                               # media fixtures, integration tests
  python3                                   # crash-test load client, mutation check
  clang-format clang-tidy                   # scripts/lint.sh (CI)
  clang libclang-rt-14-dev                  # libFuzzer targets (scripts/fuzz.sh)
  nats-server                               # JetStream cluster of the scale-out tests
)

build_only=0
extra=()
for arg in "$@"; do
  case "$arg" in
    --build-only) build_only=1 ;;
    --bench) extra+=(wrk nginx-light libbenchmark-dev bc iproute2) ;;
    --fuzz) ;;  # clang is a test dependency now
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "setup-deps.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
packages=("${build_packages[@]}")
[[ $build_only -eq 1 ]] || packages+=("${test_packages[@]}")
packages+=("${extra[@]}")

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

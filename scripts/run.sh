#!/usr/bin/env bash
# Installs what is missing, builds Release and runs the daemon in the
# foreground on config/origin.yaml (RocksDB in ./data). Extra arguments go to
# liveorigin, e.g. scripts/run.sh --config my.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
./scripts/build.sh release --target liveorigin
exec ./build/release/liveorigin --config config/origin.yaml "$@"

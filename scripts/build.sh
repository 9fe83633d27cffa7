#!/usr/bin/env bash
# Configures and builds one preset: release (default), debug or asan.
#   scripts/build.sh [release|debug|asan] [extra cmake --build args]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
jobs="${JOBS:-2}"
if [[ ! -f "build/$preset/build.ninja" && ! -f "build/$preset/Makefile" ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake --preset "$preset" "${generator[@]}" >/dev/null
fi
cmake --build "build/$preset" -j "$jobs" "$@"

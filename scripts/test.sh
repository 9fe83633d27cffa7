#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest.
# Exits non-zero on any failure.
#   scripts/test.sh            release build, all tests
#   scripts/test.sh asan       the same under AddressSanitizer + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
./scripts/setup-deps.sh
./scripts/build.sh "$preset"
cd "build/$preset"
ctest --output-on-failure -j 2 --timeout 600

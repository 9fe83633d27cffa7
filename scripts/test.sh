#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest.
# Exits non-zero on any failure.
#   scripts/test.sh            release build, all tests
#   scripts/test.sh asan       the same under AddressSanitizer + UBSan
#   scripts/test.sh tsan       the same under ThreadSanitizer
#   scripts/test.sh all        static checks (scripts/lint.sh), release, then asan,
#                              then a short fuzz run of every parser (what CI runs);
#                              fails when clang++ is missing
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
./scripts/setup-deps.sh

run_preset() {
  local p="$1"
  echo "==> $p: build"
  ./scripts/build.sh "$p"
  echo "==> $p: test"
  local env=()
  case "$p" in
    asan) env=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1) ;;
    tsan) env=(TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp") ;;
  esac
  (cd "build/$p" && env "${env[@]}" ctest --output-on-failure -j 2 --timeout 600)
}

if [[ "$preset" == "all" ]]; then
  # Checked first: a CI run must not spend minutes before failing on this.
  if ! command -v clang++ >/dev/null; then
    echo "test.sh all: clang++ is missing, so the fuzz targets cannot run;" \
      "scripts/setup-deps.sh installs clang and libclang-rt-14-dev" >&2
    exit 1
  fi
  ./scripts/lint.sh
  run_preset release
  run_preset asan
  echo "==> fuzz: ${FUZZ_SECONDS:-20} s per target"
  ./scripts/fuzz.sh all "${FUZZ_SECONDS:-20}"
else
  run_preset "$preset"
fi

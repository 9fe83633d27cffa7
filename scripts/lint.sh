#!/usr/bin/env bash
# Static checks, as CI runs them:
#   1. clang-format: every C++ file is formatted (.clang-format);
#   2. the `clang` preset: the daemon builds with clang's -Wthread-safety
#      analysis as errors (GUARDED_BY / REQUIRES annotations are checked);
#   3. clang-tidy (.clang-tidy) on every source file of src/, warnings as errors.
#   scripts/lint.sh            all three
#   scripts/lint.sh format     only the format check (fast)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
for tool in clang-format clang++ clang-tidy run-clang-tidy; do
  command -v "$tool" >/dev/null || { echo "lint: $tool is not installed (scripts/setup-deps.sh installs it)" >&2; exit 1; }
done

echo "==> lint: clang-format"
mapfile -t files < <(git ls-files '*.cpp' '*.h')
clang-format --dry-run --Werror "${files[@]}"
[[ "$what" == format ]] && exit 0

mkdir -p build
echo "==> lint: thread-safety analysis (clang preset)"
JOBS="${JOBS:-2}" ./scripts/build.sh clang --target liveorigin > build/lint-clang.log 2>&1 \
  || { grep -E "error|warning" build/lint-clang.log | head -50; exit 1; }

echo "==> lint: clang-tidy"
# compile_commands.json of the clang build lists every translation unit of src/.
run-clang-tidy -p build/clang -j "${JOBS:-2}" -quiet "$PWD/src/" > build/lint-tidy.log 2>&1 \
  || { grep -E "warning:|error:" build/lint-tidy.log | sort -u | head -50; exit 1; }
echo "lint: OK"

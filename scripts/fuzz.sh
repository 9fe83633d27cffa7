#!/usr/bin/env bash
# Runs libFuzzer targets for a while.
#
# Usage: scripts/fuzz.sh NAME SECONDS   (NAME e.g. iso_bmff, or "all")
#
# Configures a clang build in build/fuzz (LIVEORIGIN_FUZZ=ON, no tests), builds
# NAME_fuzz, and fuzzes it for SECONDS over a copy of tests/fuzz/corpus/NAME in a
# temporary directory, so the committed corpus is never written to. Prints the
# executions and any crash file; exits non-zero when a target crashed, and
# when clang++ is missing (scripts/setup-deps.sh installs it).
set -euo pipefail

usage() { echo "usage: $0 NAME|all SECONDS" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
NAME="$1"
DURATION="$2"
[[ "$DURATION" =~ ^[0-9]+$ ]] || usage

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz.sh: clang++ is not installed; scripts/setup-deps.sh installs clang and" \
    "libclang-rt-14-dev" >&2
  exit 1
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build/fuzz"
FUZZ_DIR="$ROOT/tests/fuzz"

if [[ "$NAME" == all ]]; then
  TARGETS=()
  for src in "$FUZZ_DIR"/*_fuzz.cpp; do
    base="$(basename "$src" .cpp)"
    TARGETS+=("${base%_fuzz}")
  done
else
  [[ -f "$FUZZ_DIR/${NAME}_fuzz.cpp" ]] || { echo "no fuzz target $NAME" >&2; exit 2; }
  TARGETS=("$NAME")
fi

GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)
[[ -f "$BUILD/CMakeCache.txt" ]] && GENERATOR=()  # keep the generator it was made with
mkdir -p "$BUILD"
if ! cmake -S "$ROOT" -B "$BUILD" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DLIVEORIGIN_FUZZ=ON -DLIVEORIGIN_BUILD_TESTS=OFF \
    >"$BUILD/configure.log" 2>&1; then
  cat "$BUILD/configure.log" >&2
  exit 1
fi
for t in "${TARGETS[@]}"; do
  cmake --build "$BUILD" --target "${t}_fuzz" -j2
done

failed=0
for t in "${TARGETS[@]}"; do
  work="$(mktemp -d "${TMPDIR:-/tmp}/fuzz-${t}.XXXXXX")"
  mkdir -p "$work/corpus"
  if [[ -d "$FUZZ_DIR/corpus/$t" ]]; then cp -r "$FUZZ_DIR/corpus/$t/." "$work/corpus/"; fi
  args=(-max_total_time="$DURATION" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$work/")
  if [[ -f "$FUZZ_DIR/$t.dict" ]]; then args+=(-dict="$FUZZ_DIR/$t.dict"); fi

  echo "== fuzzing $t for ${DURATION}s in $work"
  rc=0
  "$BUILD/tests/fuzz/${t}_fuzz" "${args[@]}" "$work/corpus" >"$work/log" 2>&1 || rc=$?

  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || true)"
  cov="$(grep -oE '^#[0-9]+.* cov: [0-9]+ ft: [0-9]+' "$work/log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)"
  echo "$t: ${execs:-?} executions, ${cov:-cov: ?}, corpus $(ls "$work/corpus" | wc -l) files, exit code $rc"
  shopt -s nullglob
  artifacts=("$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work"/slow-unit-*)
  shopt -u nullglob
  if [[ $rc -ne 0 || ${#artifacts[@]} -gt 0 ]]; then
    failed=1
    echo "$t: FAILED; log and inputs kept in $work"
    grep -E 'ERROR|SUMMARY|runtime error|deadly signal|invariant failed' "$work/log" | head -20 || true
    for a in "${artifacts[@]}"; do echo "  artifact: $a"; done
  else
    rm -rf "$work"
  fi
done
exit "$failed"

#!/usr/bin/env bash
# Mutation check: does the test suite notice when a SPEC rule breaks?
#
#   scripts/mutation-check.sh                 every mutation in tests/mutations/
#   scripts/mutation-check.sh 05 sighup       only mutations whose file name contains 05 or sighup
#   scripts/mutation-check.sh --list          list the catalogue and check its anchors, build nothing
#
# Each tests/mutations/*.mutation file plants one small bug: a `find` text that
# must occur exactly once in `file`, and its `replace` text. For each one, one
# at a time, this script applies it, builds (build/mutation, a Release build of
# its own so build/release stays untouched), runs the whole ctest suite
# (unit, integration, the 5-cycle crash test; it stops at the first failing
# test) and restores the file. Results:
#   CAUGHT    a test failed, and failed again when run alone: the suite pins the rule
#   SURVIVED  every test passed with the bug in place
#   UNSURE    the suite kept stopping on tests that then passed when run alone
#             (each such test is named; a failure that does not repeat is not a catch)
#   STALE     the find text is not in the file exactly once (the code moved on):
#             fix the mutation's anchor; never counted as caught
#   BROKEN    the mutated tree does not build: fix the mutation; never counted as caught
# Exits 0 only when every mutation is CAUGHT. Before the first mutation the
# unmutated suite must pass. Not part of CI: a full run takes 30-60 minutes on
# two cores (a build of the touched module plus ~40 s of tests per mutation).
#
# Environment: JOBS (build parallelism, default 2), MUTATION_TEST_TIMEOUT
# (seconds per test, default 180: the slowest tests wait up to 60 s for a rule
# to show before they fail).
# Catalogue format (one file per mutation):
#   # one line saying what the planted bug does
#   spec: §4.1
#   file: src/core/pipeline_auth.cpp
#   @@ find
#   <lines to find, verbatim>
#   @@ replace
#   <replacement lines, verbatim; may be empty>
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
catalogue="$root/tests/mutations"
build="$root/build/mutation"
jobs="${JOBS:-2}"
test_timeout="${MUTATION_TEST_TIMEOUT:-180}"
logs="$build/mutation-logs"

list_only=0
filters=()
for arg in "$@"; do
  case "$arg" in
    --list) list_only=1 ;;
    -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
    *) filters+=("$arg") ;;
  esac
done

mutations=()
for f in "$catalogue"/*.mutation; do
  name="$(basename "$f" .mutation)"
  if ((${#filters[@]})); then
    keep=0
    for flt in "${filters[@]}"; do [[ "$name" == *"$flt"* ]] && keep=1; done
    ((keep)) || continue
  fi
  mutations+=("$f")
done
((${#mutations[@]})) || { echo "mutation-check: no mutation matches" >&2; exit 2; }

# mutate.py MODE FILE: MODE "check" prints "ok", "stale N" (N = occurrences of
# the find text) or "bad <why>"; "apply" writes the mutated file; "meta" prints
# "file<TAB>spec<TAB>description".
mutate() {
  python3 - "$@" <<'PY'
import sys
mode, path = sys.argv[1], sys.argv[2]
meta, sections, current = {}, {"find": [], "replace": []}, None
for line in open(path, encoding="utf-8").read().split("\n"):
    if line.startswith("@@ "):
        current = line[3:].strip()
        if current not in sections:
            print("bad unknown section " + current); sys.exit(0)
    elif current:
        sections[current].append(line)
    elif line.startswith("#"):
        meta.setdefault("description", line.lstrip("# ").strip())
    elif ":" in line:
        key, value = line.split(":", 1)
        meta[key.strip()] = value.strip()
def block(lines):
    while lines and lines[-1] == "":
        lines = lines[:-1]
    return "\n".join(lines)
find, replace = block(sections["find"]), block(sections["replace"])
target = meta.get("file", "")
if mode == "meta":
    print("%s\t%s\t%s" % (target, meta.get("spec", "?"), meta.get("description", "")))
    sys.exit(0)
if not target or not find:
    print("bad needs 'file:' and a non-empty '@@ find' section"); sys.exit(0)
try:
    text = open(target, encoding="utf-8").read()
except OSError as e:
    print("stale 0 (%s)" % e.strerror); sys.exit(0)
count = text.count(find)
if mode == "check":
    print("ok" if count == 1 else "stale %d" % count)
elif mode == "apply":
    if count != 1:
        sys.exit(1)
    if replace:
        mutated = text.replace(find, replace)
    else:  # drop the lines entirely
        mutated = text.replace(find + "\n", "") if (find + "\n") in text else text.replace(find, "")
    open(target, "w", encoding="utf-8").write(mutated)
PY
}

if ((list_only)); then
  for f in "${mutations[@]}"; do
    IFS=$'\t' read -r file spec desc < <(mutate meta "$f")
    printf '%-36s %-8s %-6s %s\n' "$(basename "$f" .mutation)" "$spec" "$(mutate check "$f" | cut -d' ' -f1)" "$desc"
  done
  exit 0
fi

command -v python3 >/dev/null || { echo "mutation-check: python3 is required" >&2; exit 2; }
./scripts/setup-deps.sh
mkdir -p "$logs"

# Restore whatever is mutated if we are interrupted.
mutated_file=""
backup="$build/mutation-backup"
restore() {
  if [[ -n "$mutated_file" ]]; then
    cp "$backup" "$mutated_file"
    mutated_file=""
  fi
}
trap 'restore' EXIT
trap 'restore; exit 130' INT TERM

build_tree() {
  if [[ ! -f "$build/build.ninja" ]]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$logs/configure.log" 2>&1
  fi
  cmake --build "$build" -j "$jobs" >"$1" 2>&1
}

run_suite() {  # log file [regex of tests to leave out]; returns ctest's status
  local exclude=()
  [[ -n "${2:-}" ]] && exclude=(-E "$2")
  (cd "$build" && ctest -j 2 --timeout "$test_timeout" --stop-on-failure --output-on-failure \
    "${exclude[@]}") >"$1" 2>&1
}

failed_tests() {  # names of the failed tests in a ctest log
  grep -E '\*\*\*(Failed|Timeout|Exception)|\(Failed\)|\(Timeout\)' "$1" |
    sed -E 's/^.*Test +#[0-9]+: ([^ ]+).*$/\1/; s/^[[:space:]]*[0-9]+ - ([^ ]+).*$/\1/' |
    sort -u | head -n 3 | paste -sd, -
}

# Runs the suite on the mutated tree; sets `verdict` (caught, survived or
# flaky), `by` (the test that caught it) and `flaky` (tests that failed once
# but passed when run again alone). A failing test is run again alone: it
# catches the mutation only if it fails again. One that passes then had failed
# by chance (a busy machine, a slow cluster start), and the suite goes on
# without it, at most three times.
judge() {  # name
  local name="$1" exclude="" round log t pattern
  flaky="" by=""
  for round in 1 2 3 4; do
    log="$logs/$name-test.log"
    ((round == 1)) || log="$logs/$name-test-$round.log"
    if run_suite "$log" "$exclude"; then
      verdict=survived
      return
    fi
    for t in $(failed_tests "$log" | tr , ' '); do
      pattern="^${t//./\\.}\$"
      if (cd "$build" && ctest --timeout "$test_timeout" --output-on-failure -R "$pattern") \
        >"$logs/$name-again-$t.log" 2>&1; then
        flaky+="${flaky:+,}$t"
        exclude+="${exclude:+|}$pattern"
      else
        verdict=caught
        by="$t"
        return
      fi
    done
  done
  verdict=flaky
}

echo "==> baseline: build and run the unmutated suite"
if ! build_tree "$logs/baseline-build.log"; then
  echo "mutation-check: the unmutated tree does not build; see $logs/baseline-build.log" >&2
  exit 2
fi
if ! run_suite "$logs/baseline-test.log"; then
  echo "mutation-check: the unmutated suite fails ($(failed_tests "$logs/baseline-test.log"));" \
    "see $logs/baseline-test.log" >&2
  exit 2
fi

caught=0 survived=0 stale=0 broken=0 unsure=0
total=${#mutations[@]}
index=0
results=()
for f in "${mutations[@]}"; do
  index=$((index + 1))
  name="$(basename "$f" .mutation)"
  IFS=$'\t' read -r file spec desc < <(mutate meta "$f")
  check="$(mutate check "$f")"
  tag="[$(printf '%2d/%d' "$index" "$total")] $name ($spec)"
  if [[ "$check" != ok ]]; then
    stale=$((stale + 1))
    line="STALE     $tag: its '@@ find' text occurs ${check#stale } time(s) in $file, not once;"
    line+=" update the mutation to the current code"
    echo "$line" >&2
    results+=("$line")
    continue
  fi
  cp "$file" "$backup"
  mutated_file="$file"
  mutate apply "$f"
  start=$SECONDS
  if ! build_tree "$logs/$name-build.log"; then
    restore
    broken=$((broken + 1))
    line="BROKEN    $tag: does not build; see $logs/$name-build.log"
    echo "$line" >&2
    results+=("$line")
    continue
  fi
  judge "$name"
  case "$verdict" in
    survived)
      survived=$((survived + 1))
      line="SURVIVED  $tag: every test passed — $desc" ;;
    caught)
      caught=$((caught + 1))
      line="CAUGHT    $tag by $by" ;;
    *)
      unsure=$((unsure + 1))
      line="UNSURE    $tag: four runs each ended on a test that then passed alone" ;;
  esac
  [[ -z "$flaky" ]] || line+=" (failed once, passed alone: $flaky)"
  restore
  echo "$line ($((SECONDS - start)) s)"
  results+=("$line")
done

# Leave build/mutation matching the source tree.
build_tree "$logs/final-build.log" || true

echo
echo "==> mutation check: $caught caught, $survived survived, $unsure unsure, $stale stale," \
  "$broken broken, of $total"
for r in "${results[@]}"; do
  [[ "$r" == CAUGHT* ]] || echo "  $r"
done
((caught == total))

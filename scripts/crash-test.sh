#!/usr/bin/env bash
# Crash test (SPEC §4.5, §7): acknowledged PUTs survive kill -9.
#   scripts/crash-test.sh [CYCLES]        default 50
#
# Each cycle: two pipelines PUT segments, init segments and captions at a high
# rate while readers GET segments (creating sticky selections); the daemon is
# killed with SIGKILL at a random instant (0.2-1.5 s in), restarted on the same
# data_dir, and then
#   - /readyz must answer 200 (within CRASH_READY_TIMEOUT_S, default 60 s: a
#     deadline for a busy machine, not a figure; the time is reported),
#   - every acknowledged (2xx) object is served byte-identical (lost = 0),
#   - no object is served partially (Content-Length = bytes = acknowledged size),
#   - every segment seen served clean still serves the same pipeline and ETag,
#     and some of them were contested (the preferred pipeline PUT its copy
#     after the other one was served), so the check can fail at all,
#   - manifests (rewritten all the time) never go back to older bytes,
#   - the daemon is still alive after serving the verification. Prints
#   cycles=N acknowledged=X lost=0 partial=0 sticky_contested=C sticky_changed=0 max_ready_ms=Y
# and exits non-zero on any loss, partial object, changed selection, a run
# without contested selections, or a restart that never became ready.
#
# Environment: LIVEORIGIN_BIN=path/to/liveorigin skips the build (ctest sets it);
# LIVEORIGIN_KEEP_TEST_DIRS=1 keeps the work directory (kept anyway on failure).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cycles="${1:-50}"
[[ "$cycles" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [CYCLES]" >&2; exit 2; }
ready_timeout_s="${CRASH_READY_TIMEOUT_S:-60}"

if ! command -v python3 >/dev/null; then
  echo "crash-test: installing python3 (the load client needs it)" >&2
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq python3 >/dev/null
fi

bin="${LIVEORIGIN_BIN:-}"
if [[ -z "$bin" ]]; then
  "$root/scripts/build.sh" release --target liveorigin >/dev/null
  bin="$root/build/release/liveorigin"
fi
[[ -x "$bin" ]] || { echo "crash-test: no liveorigin binary at $bin" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/liveorigin-crash.XXXXXX")"
client=(python3 "$root/scripts/crash_client.py")
daemon_pid=""
load_pid=""
failed=0

cleanup() {
  [[ -n "$load_pid" ]] && kill "$load_pid" 2>/dev/null || true
  [[ -n "$daemon_pid" ]] && kill -9 "$daemon_pid" 2>/dev/null || true
  if [[ "$failed" -ne 0 || -n "${LIVEORIGIN_KEEP_TEST_DIRS:-}" ]]; then
    echo "crash-test: work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

mkdir -p "$work/events"
cat >"$work/origin.yaml" <<EOF
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
data_dir: $work/data
events_dir: $work/events
threads: 2
cache_size: 64MiB
sync_writes: false
log: {level: info}
EOF
cat >"$work/events/crash.yaml" <<'EOF'
id: crash
segment_duration: 1s
dvr_window: 10m
media_template: "$RepresentationID$/$Number$.m4s"
init_template: "$RepresentationID$/init.mp4"
pipelines:
  - {id: a}
  - {id: b}
hold: {max_wait: 3s}
preferred_grace: 500ms
ingest_ahead: 5
EOF

# Starts the daemon on the data dir; sets port, admin_port, ready_ms.
start_daemon() {
  local n="$1" log="$work/daemon-$1.log" start_ns out
  start_ns="$(date +%s%N)"
  "$bin" --config "$work/origin.yaml" >"$log" 2>&1 &
  daemon_pid=$!
  if ! out="$("${client[@]}" wait-ready --log "$log" --start-ns "$start_ns" \
    --timeout "$ready_timeout_s")"; then
    echo "crash-test: daemon start $n failed; log:" >&2
    cat "$log" >&2
    failed=1
    exit 1
  fi
  read -r port admin_port ready_ms <<<"$out"
}

# Fails the run when the daemon died while it should be serving (crash, OOM).
check_alive() {
  if ! kill -0 "$daemon_pid" 2>/dev/null; then
    echo "crash-test: the daemon died $1; last log lines:" >&2
    tail -n 20 "$work/daemon-$cycle.log" >&2
    dmesg 2>/dev/null | grep -i "killed process.*liveorigin" | tail -n 1 >&2 || true
    failed=1
    exit 1
  fi
}

acknowledged=0  # 2xx answers to PUTs
objects=0       # distinct (pipeline, path) among them
lost=0
partial=0
sticky_changed=0
sticky_contested=0
max_ready_ms=0

add_verify_counts() {
  local line="$1" key value
  for kv in $line; do
    key="${kv%%=*}"
    value="${kv#*=}"
    case "$key" in
      acknowledged) objects="$value" ;;
      lost) lost=$((lost + value)) ;;
      partial) partial=$((partial + value)) ;;
      sticky_changed) sticky_changed=$((sticky_changed + value)) ;;
      sticky_contested) ((value > sticky_contested)) && sticky_contested=$value ;;
    esac
  done
}

start_daemon 0
for ((cycle = 1; cycle <= cycles; cycle++)); do
  rm -f "$work/stop" "$work/running"
  "${client[@]}" load --port "$port" --dir "$work" --root "$root" --cycle "$cycle" \
    --stop-file "$work/stop" --running-file "$work/running" >"$work/load-$cycle.out" 2>&1 &
  load_pid=$!
  for _ in $(seq 6000); do [[ -f "$work/running" ]] && break; sleep 0.01; done
  delay_ms=$((200 + RANDOM % 1301))
  # The last cycle runs long enough for pipeline a's late copies (800 ms after
  # availability) to land on segments already served from b: short random
  # cycles alone may contest no selection, and the stickiness check needs one.
  ((cycle == cycles)) && delay_ms=$((2500 + RANDOM % 501))
  sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
  kill -9 "$daemon_pid"
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
  touch "$work/stop"
  wait "$load_pid" || { echo "crash-test: load client failed:" >&2; cat "$work/load-$cycle.out" >&2; failed=1; }
  load_pid=""
  acked_now="$(grep -o 'acked=[0-9]*' "$work/load-$cycle.out" | cut -d= -f2)"
  acknowledged=$((acknowledged + ${acked_now:-0}))

  start_daemon "$cycle"
  ((ready_ms > max_ready_ms)) && max_ready_ms=$ready_ms
  verify_out="$("${client[@]}" verify --port "$port" --admin-port "$admin_port" --dir "$work" \
    2>"$work/verify-$cycle.err")" || failed=1
  add_verify_counts "$verify_out"
  check_alive "after verifying cycle $cycle"
  echo "cycle $cycle: killed after ${delay_ms}ms; $(tail -n 1 "$work/load-$cycle.out" | cut -d' ' -f3-);" \
    "ready ${ready_ms}ms; ${verify_out#verify }"
  [[ -s "$work/verify-$cycle.err" ]] && sed 's/^/    /' "$work/verify-$cycle.err" | head -n 20
done

# Once more after every segment has become available: what was still ahead of
# the live edge at the last kill, every manifest and selection, and a sample of
# everything verified before.
final_out="$("${client[@]}" verify --final --sample 5000 --port "$port" \
  --admin-port "$admin_port" --dir "$work" 2>"$work/verify-final.err")" || failed=1
check_alive "during the final verification"
echo "final: ${final_out#verify }"
[[ -s "$work/verify-final.err" ]] && sed 's/^/    /' "$work/verify-final.err" | head -n 20
add_verify_counts "$final_out"
kill -TERM "$daemon_pid" 2>/dev/null || true
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=""

echo "objects=$objects (distinct pipeline+path among the acknowledged PUTs)"
echo "cycles=$cycles acknowledged=$acknowledged lost=$lost partial=$partial" \
  "sticky_contested=$sticky_contested sticky_changed=$sticky_changed max_ready_ms=$max_ready_ms"
if ((lost || partial || sticky_changed)); then failed=1; fi
if ((sticky_contested == 0)); then
  echo "crash-test: no contested sticky selection was observed: the stickiness check proved nothing" >&2
  failed=1
fi
exit "$failed"

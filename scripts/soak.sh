#!/usr/bin/env bash
# Soak test: 100 events x 2 pipelines x 6 renditions at d = 2 s (600 PUT/s of
# valid CMAF segments, 8-96 KiB) plus live-edge GETs, for MINUTES (default 10).
# Reports PUT and GET p50/p99, origin RSS and data-dir size over time (both
# should be flat once the 60 s DVR windows have filled), and errors (must be 0).
#
#   scripts/soak.sh                  # 10 minutes
#   scripts/soak.sh 2                # 2 minutes
#   GETS=64 CONNECTIONS=32 VIDEO_KIB=8,16,32,64,96 AUDIO_KIB=8 scripts/soak.sh 10
#   KEEP=1 scripts/soak.sh 2         # keep the temp dir (config, origin log)
#
# Load model (details in bench/soak_client.cpp): every packager (event,
# pipeline) PUTs segment n at its availability time + its own steady latency in
# [0, 1.5 s], 16 keep-alive connections per pipeline; bodies are the media
# fixtures re-timed to 2 s and padded with a `free` box, so they inspect clean.
# GETs (32 clients, closed loop) ask for the live edge E, or E+1 when it is due
# within 1 s (1 s early + 1.5 s spread + the origin's work must fit in
# hold.max_wait = 3 s); a 404 after a hold timeout counts as an error.
#
# Exit status: that of soak_client (1 when any request failed), or 1 when the
# origin died during the run.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${1:-${MINUTES:-10}}"
EVENTS="${EVENTS:-100}"
GETS="${GETS:-32}"
GET_RATE="${GET_RATE:-0}"               # 0: closed loop
CONNECTIONS="${CONNECTIONS:-16}"        # keep-alive PUT connections per pipeline
VIDEO_KIB="${VIDEO_KIB:-8,16,32,64,96}"
AUDIO_KIB="${AUDIO_KIB:-8}"
DVR_WINDOW="${DVR_WINDOW:-60s}"
REPORT_S="${REPORT_S:-30}"
IDLE_TIMEOUT="${IDLE_TIMEOUT:-60s}"     # the origin's keep-alive idle timeout

./scripts/setup-deps.sh --bench
mkdir -p build/bench
./scripts/build.sh bench --target liveorigin soak_client > build/bench/soak-build.log 2>&1 ||
  { tail -30 build/bench/soak-build.log; exit 1; }

ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d /tmp/liveorigin-soak.XXXXXX)
origin_pid=""; client_pid=""
cleanup() {
  [[ -n "$client_pid" ]] && kill "$client_pid" 2>/dev/null && wait "$client_pid" 2>/dev/null || true
  [[ -n "$origin_pid" ]] && kill "$origin_pid" 2>/dev/null && wait "$origin_pid" 2>/dev/null || true
  if [[ -n "${KEEP:-}" ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$tmp/events"
cat > "$tmp/origin.yaml" <<YAML
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
data_dir: $tmp/data
events_dir: $tmp/events
threads: 2
cache_size: 256MiB
log: {level: warn}
limits: {max_object_size: 64MiB, idle_timeout: $IDLE_TIMEOUT, max_connections: 10000, max_held_requests: 100000, max_inflight_requests: 20000}
YAML
for i in $(seq 0 $((EVENTS - 1))); do
  id=$(printf "e%03d" "$i")
  cat > "$tmp/events/$id.yaml" <<YAML
id: $id
segment_duration: 2s
dvr_window: $DVR_WINDOW
media_template: "\$RepresentationID\$/\$Number\$.m4s"
init_template: "\$RepresentationID\$/init.mp4"
pipelines:
  - {id: a, token: "token-a"}
  - {id: b, token: "token-b"}
hold: {max_wait: 3s}
preferred_grace: 500ms
ingest_ahead: 2
YAML
done

./build/bench/liveorigin --config "$tmp/origin.yaml" 2> "$tmp/origin.log" &
origin_pid=$!
ports=""
for _ in $(seq 100); do
  kill -0 "$origin_pid" 2>/dev/null || { echo "origin exited:" >&2; cat "$tmp/origin.log" >&2; exit 1; }
  # "listening on" is logged at info; with level warn read the ports from /proc.
  ports=$(ss -ltnp 2>/dev/null | awk -v pid="pid=$origin_pid," '$0 ~ pid {split($4,a,":"); print a[length(a)]}' | sort -n)
  [[ $(wc -w <<<"$ports") -eq 2 ]] && break
  sleep 0.1
done
read -r p1 p2 <<<"$(echo $ports)"
if curl -sf "http://127.0.0.1:$p1/healthz" >/dev/null; then ADMIN=$p1; PORT=$p2; else ADMIN=$p2; PORT=$p1; fi
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ADMIN/readyz" >/dev/null && break; sleep 0.1; done
echo "liveorigin $(./build/bench/liveorigin --version | awk '{print $2}') pid $origin_pid on :$PORT (admin :$ADMIN), $EVENTS event files, dvr_window $DVR_WINDOW; $(nproc) cores; $(uptime | sed 's/.*load average/load average/')"

./build/bench/bench/soak_client --port "$PORT" --admin-port "$ADMIN" --pid "$origin_pid" \
  --data-dir "$tmp/data" --fixtures tests/fixtures/media --minutes "$MINUTES" \
  --events "$EVENTS" --pipelines a:token-a,b:token-b --video-kib "$VIDEO_KIB" --audio-kib "$AUDIO_KIB" \
  --connections "$CONNECTIONS" --gets "$GETS" --get-rate "$GET_RATE" --report-s "$REPORT_S" &
client_pid=$!
rc=0
wait "$client_pid" || rc=$?
client_pid=""
echo "load average at the end: $(uptime | sed 's/.*load average: //')"
if ! kill -0 "$origin_pid" 2>/dev/null; then
  echo "ORIGIN DIED during the run; last log lines:" >&2
  tail -20 "$tmp/origin.log" >&2
  origin_pid=""
  exit 1
fi
warns=$(grep -c . "$tmp/origin.log" || true)
echo "origin log: $warns line(s) at warn or above$( ((warns)) && echo '; first ones:')"
head -5 "$tmp/origin.log"
exit "$rc"

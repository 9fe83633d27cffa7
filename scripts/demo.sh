#!/usr/bin/env bash
# End-to-end demo on this machine, without Docker:
#   two redundant ffmpeg pipelines  --PUT-->  liveorigin  <--GET--  nginx edge (proxy_cache)
#
#   scripts/demo.sh [--low-latency] [--fail-primary-after N] [--duration SECONDS] [--keep]
#
#   --low-latency           the event has low_latency: true and ffmpeg runs in
#                           LL-DASH streaming mode (-ldash 1 -streaming 1, one
#                           fragment per frame, a prft box in each); a probe
#                           (scripts/ll_latency_probe.py) reads each segment
#                           through the edge while it is uploaded and prints how
#                           far behind the encoder every frame arrives
#   --fail-primary-after N  after N seconds, SIGKILL pipeline us-east-1's ffmpeg
#                           and show the origin switching to us-west-2
#   --duration SECONDS      total streaming time (default 40; with
#                           --fail-primary-after N: N+20)
#   --keep                  keep the temporary directory (configs, logs, store)
#
# Ports: ORIGIN_PORT (8080), ADMIN_PORT (9090), EDGE_PORT (8081). Everything
# runs on 127.0.0.1 from a temporary directory; the event `demo` is anchored at
# the moment the stream starts (availability_start_time = now, start_number 1),
# because ffmpeg numbers its segments from 1 and is not epoch-locked.
#
# Exits non-zero if the origin does not start, no segment is ever served
# through the edge, or (with --fail-primary-after) the newest segment after the
# failover is not served by us-west-2.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
FAIL_AFTER=""; DURATION=""; KEEP=0; LOW_LATENCY=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --fail-primary-after) FAIL_AFTER="${2:?--fail-primary-after needs a number of seconds}"; shift 2 ;;
    --fail-primary-after=*) FAIL_AFTER="${1#*=}"; shift ;;
    --duration) DURATION="${2:?--duration needs a number of seconds}"; shift 2 ;;
    --duration=*) DURATION="${1#*=}"; shift ;;
    --keep) KEEP=1; shift ;;
    --low-latency) LOW_LATENCY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in "$FAIL_AFTER" "$DURATION"; do
  [[ -z "$v" || "$v" =~ ^[0-9]+$ ]] || { echo "not a whole number of seconds: $v" >&2; exit 2; }
done
if [[ -z "$DURATION" ]]; then
  if [[ -n "$FAIL_AFTER" ]]; then DURATION=$((FAIL_AFTER + 20)); else DURATION=40; fi
fi
SEG=2                     # segment_duration of the demo event, in seconds
if [[ -n "$FAIL_AFTER" ]] && (( FAIL_AFTER + 3 * SEG + 2 > DURATION )); then
  echo "--duration must leave at least $((3 * SEG + 2)) s after --fail-primary-after" >&2; exit 2
fi

ORIGIN_PORT="${ORIGIN_PORT:-8080}"
ADMIN_PORT="${ADMIN_PORT:-9090}"
EDGE_PORT="${EDGE_PORT:-8081}"
ORIGIN="http://127.0.0.1:$ORIGIN_PORT"
ADMIN="http://127.0.0.1:$ADMIN_PORT"
EDGE="http://127.0.0.1:$EDGE_PORT"
PIPES=(us-east-1 us-west-2)
TOKENS=(secret-a secret-b)

say() { printf '%s\n' "$*"; }
die() { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- build
say "==> dependencies (scripts/setup-deps.sh --bench: adds nginx) and build"
./scripts/setup-deps.sh --bench
./scripts/build.sh release --target liveorigin >/tmp/liveorigin-demo-build.$$ 2>&1 || {
  tail -40 /tmp/liveorigin-demo-build.$$ >&2; rm -f /tmp/liveorigin-demo-build.$$; die "build failed"; }
rm -f /tmp/liveorigin-demo-build.$$
BIN="$ROOT/build/release/liveorigin"
for p in "$ORIGIN_PORT" "$ADMIN_PORT" "$EDGE_PORT"; do
  if [[ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]]; then
    die "port $p is already in use; pick others with ORIGIN_PORT / ADMIN_PORT / EDGE_PORT"
  fi
done

# ---------------------------------------------------------------- cleanup
DIR=$(mktemp -d /tmp/liveorigin-demo.XXXXXX)
chmod 755 "$DIR"              # nginx workers run as an unprivileged user when started by root
ORIGIN_PID=""; EDGE_PID=""; FF_PID=("" ""); PROBE_PID=
stop_pid() {  # PID [seconds]: SIGTERM, SIGKILL after the grace time; returns the exit status
  local pid="$1" grace="${2:-10}" i st=0
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "demo: pid $pid did not stop within ${grace} s, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || st=$?
  return "$st"
}
cleanup() {
  local rc=$? orc=0
  trap - EXIT INT TERM
  stop_pid "$PROBE_PID" 2 || true
  stop_pid "${FF_PID[0]}" 5 || true
  stop_pid "${FF_PID[1]}" 5 || true
  stop_pid "$EDGE_PID" 5 || true
  if [[ -n "$ORIGIN_PID" ]]; then
    stop_pid "$ORIGIN_PID" 25 || orc=$?
    if (( orc != 0 )); then
      say "demo: liveorigin exited with status $orc on SIGTERM (expected 0); last log lines:" >&2
      tail -5 "$DIR/origin.log" >&2 || true
      if (( rc == 0 )); then rc=1; fi
    fi
  fi
  if (( rc == 130 || rc == 143 )); then
    say "demo: interrupted, everything stopped"
  elif (( rc != 0 )) && [[ -d "$DIR" ]]; then
    say "--- last origin log lines ($DIR/origin.log)" >&2
    tail -15 "$DIR/origin.log" >&2 2>/dev/null || true
    for p in "${PIPES[@]}"; do
      if [[ -s "$DIR/ffmpeg-$p.log" ]]; then say "--- $DIR/ffmpeg-$p.log" >&2; tail -5 "$DIR/ffmpeg-$p.log" >&2; fi
    done
  fi
  if (( KEEP )); then
    say "kept $DIR"
  else
    rm -rf "$DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers
# Flattens JSON on stdin to "path=value" lines (pipelines.0.id=us-east-1), so
# the demo needs neither jq nor python.
JSON_FLAT='
{ s = s $0 "\n" }
END {
  n = length(s); i = 1; depth = 0
  while (i <= n) {
    c = substr(s, i, 1)
    if (c == "{" || c == "[") { depth++; type[depth] = c; idx[depth] = 0; key[depth] = ""; want[depth] = (c == "{"); i++; continue }
    if (c == "}" || c == "]") { depth--; i++; continue }
    if (c == ",") { if (type[depth] == "[") idx[depth]++; else want[depth] = 1; i++; continue }
    if (c == ":") { want[depth] = 0; i++; continue }
    if (c == " " || c == "\t" || c == "\n" || c == "\r") { i++; continue }
    if (c == "\"") {
      j = i + 1; v = ""
      while (j <= n) { d = substr(s, j, 1); if (d == "\\") { v = v substr(s, j, 2); j += 2; continue } if (d == "\"") break; v = v d; j++ }
      i = j + 1; tok = v
    } else {
      j = i; while (j <= n && index(",}] \t\n\r", substr(s, j, 1)) == 0) j++
      tok = substr(s, i, j - i); i = j
    }
    if (type[depth] == "{" && want[depth]) { key[depth] = tok; continue }
    p = ""; for (d = 1; d <= depth; d++) { seg = (type[d] == "{") ? key[d] : idx[d]; p = (p == "") ? seg : p "." seg }
    print p "=" tok
  }
}'
flat() { awk "$JSON_FLAT" "$@"; }
jget() { awk -F= -v k="$1" '$1 == k { sub(/^[^=]*=/, ""); print; exit }'; }   # KEY < flat
hdr() { awk -v h="$1" 'BEGIN { h = tolower(h) } { line = $0; sub(/\r$/, "", line); split(line, a, ":"); if (tolower(a[1]) == h) { sub(/^[^:]*:[ \t]*/, "", line); print line; exit } }'; }
status_code() { awk 'NR == 1 { print $2; exit }'; }
seg_name() { printf 'chunk-stream0-%05d.m4s' "$1"; }   # video rendition (ffmpeg stream 0)
now_ms() { date +%s%3N; }

# Prints "live_edge newest" and "id last state selections" per pipeline (flat admin JSON on stdin).
pipeline_table() {
  awk -F= '
    { k = $1; sub(/^[^=]*=/, ""); v[k] = $0 }
    END {
      for (i = 0; ("pipelines." i ".id") in v; i++)
        printf "%s %s %s %s %s\n", v["pipelines." i ".id"], v["pipelines." i ".last_number"], v["pipelines." i ".state"],
          v["pipelines." i ".selections"], v["pipelines." i ".seconds_since_last_put"]
    }'
}
newest_number() {  # highest last_number of any pipeline, from flat admin JSON on stdin
  awk -F= '$1 ~ /^pipelines\.[0-9]+\.last_number$/ && $2 ~ /^[0-9]+$/ && $2 + 0 > m { m = $2 + 0 } END { print m + 0 }'
}

# ---------------------------------------------------------------- origin
# Label each pipeline's picture (drawtext needs a font), so a player shows the failover.
if ffmpeg -hide_banner -loglevel error -nostdin -f lavfi -i testsrc2=size=64x64:rate=1 \
     -vf drawtext=text=x -frames:v 1 -f null - >/dev/null 2>&1; then
  OVERLAY=1
else
  OVERLAY=0
fi

# availability_start_time is "now": the instant the pipelines' media clocks
# start. It is fixed LEAD_MS ahead; the origin and the edge start meanwhile;
# both ffmpeg processes are launched FFMPEG_STARTUP_MS before it (ffmpeg takes
# about that long from exec to its first frame), so segment n is complete
# (n·2 s of media later) ~0.1-0.2 s after its availability time, well inside
# preferred_grace (500 ms). Pipelines later than the grace would let whichever
# candidate arrives first be served instead of the preferred pipeline's.
LEAD_MS=1500
FFMPEG_STARTUP_MS="${FFMPEG_STARTUP_MS:-300}"
AST_MS=$(( $(now_ms) + LEAD_MS ))
AST=$(date -u -d "@$((AST_MS / 1000)).$(printf %03d $((AST_MS % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ)
mkdir -p "$DIR/events" "$DIR/edge"
cat > "$DIR/origin.yaml" <<YAML
listen: 127.0.0.1:$ORIGIN_PORT
admin_listen: 127.0.0.1:$ADMIN_PORT
data_dir: $DIR/data
events_dir: $DIR/events
cache_size: 256MiB
log: {level: info, format: text, access_log: true}
YAML
cat > "$DIR/events/demo.yaml" <<YAML
# Written by scripts/demo.sh: anchored at the moment the demo stream starts.
id: demo
availability_start_time: $AST
start_number: 1
segment_duration: ${SEG}s
dvr_window: 10m
media_template: "chunk-stream\$RepresentationID\$-\$Number%05d\$.m4s"
init_template: "init-stream\$RepresentationID\$.m4s"
pipelines:
  - {id: ${PIPES[0]}, token: "${TOKENS[0]}"}
  - {id: ${PIPES[1]}, token: "${TOKENS[1]}"}
hold: {max_wait: 3s}
preferred_grace: 500ms
ingest_ahead: 3
cache_control: {manifest_max_age: 1s}
low_latency: $( ((LOW_LATENCY)) && echo true || echo false )
YAML
"$BIN" --check-config "$DIR/origin.yaml" >"$DIR/check-config.log" 2>&1 || { cat "$DIR/check-config.log" >&2; die "generated configuration is invalid"; }

say "==> starting liveorigin ($DIR/origin.log)"
"$BIN" --config "$DIR/origin.yaml" 2>"$DIR/origin.log" &
ORIGIN_PID=$!
for ((i = 0; i < 100; i++)); do
  kill -0 "$ORIGIN_PID" 2>/dev/null || { wait "$ORIGIN_PID" || true; ORIGIN_PID=""; cat "$DIR/origin.log" >&2; die "liveorigin did not start"; }
  curl -sf -o /dev/null "$ADMIN/readyz" && break
  sleep 0.1
done
curl -sf -o /dev/null "$ADMIN/readyz" || die "liveorigin is not ready after 10 s"

# ---------------------------------------------------------------- edge
say "==> starting the nginx edge ($DIR/edge/nginx.conf, rendered from docker/nginx-edge.conf)"
sed -e "s|@LISTEN@|127.0.0.1:$EDGE_PORT|g" \
    -e "s|@ORIGIN@|127.0.0.1:$ORIGIN_PORT|g" \
    -e "s|@CACHE_DIR@|$DIR/edge/cache|g" \
    -e "s|@PREFIX@|$DIR/edge|g" \
    -e "s|@ACCESS_LOG@|$DIR/edge/access.log|g" \
    -e "s|@ERROR_LOG@|$DIR/edge/error.log|g" \
    docker/nginx-edge.conf > "$DIR/edge/nginx.conf"
if ((LOW_LATENCY)); then
  # A segment still arriving is streamed through to each viewer that asks;
  # a long cache lock would make the second viewer wait for its end (README,
  # "The CDN edge in front of a low-latency event").
  sed -i -e 's/proxy_cache_lock_timeout 10s;/proxy_cache_lock_timeout 100ms;/' "$DIR/edge/nginx.conf"
  grep -q 'proxy_cache_lock_timeout 100ms;' "$DIR/edge/nginx.conf" \
    || die "docker/nginx-edge.conf no longer has 'proxy_cache_lock_timeout 10s;' for --low-latency to lower"
fi
if grep -nE '^[^#]*@[A-Z_]+@' "$DIR/edge/nginx.conf" >&2; then die "docker/nginx-edge.conf has a placeholder demo.sh does not fill"; fi
nginx -t -q -p "$DIR/edge" -c "$DIR/edge/nginx.conf" 2>>"$DIR/edge/error.log" || { cat "$DIR/edge/error.log" >&2; die "nginx rejects the rendered edge configuration"; }
nginx -p "$DIR/edge" -c "$DIR/edge/nginx.conf" -g 'daemon off;' 2>>"$DIR/edge/error.log" &
EDGE_PID=$!
for ((i = 0; i < 50; i++)); do
  kill -0 "$EDGE_PID" 2>/dev/null || { wait "$EDGE_PID" || true; EDGE_PID=""; cat "$DIR/edge/error.log" >&2; die "nginx did not start"; }
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "$EDGE/demo/nothing.txt")" == 404 ]] && break
  sleep 0.1
done
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$EDGE/demo/nothing.txt")" == 404 ]] \
  || { cat "$DIR/edge/error.log" >&2; die "the edge does not proxy to the origin"; }

# ---------------------------------------------------------------- pipelines
# Two ffmpeg processes, not one ffmpeg with the tee muxer: the tee would
# encode once for both pipelines, but --fail-primary-after must stop pipeline A
# alone, and one process cannot lose one of its outputs on demand. Both use the
# same lavfi source, the same settings and -re, and start together, so segment
# n covers the same media interval in both (epoch-locked by construction).
# -g/-keyint_min 50 at 25 fps with -sc_threshold 0 make every segment exactly 2 s.
if ((LOW_LATENCY)); then
  # One chunked PUT per segment, one HTTP chunk (prft+moof+mdat) per frame;
  # the MPD announces availabilityTimeOffset and a UTCTiming source.
  dash_mode=(-streaming 1 -ldash 1 -frag_type every_frame -write_prft 1
             -utc_timing_url "$EDGE/.well-known/time")
else
  dash_mode=(-streaming 0)
fi
start_pipeline() {  # INDEX
  local i="$1" p="${PIPES[$1]}" t="${TOKENS[$1]}"
  overlay=()
  (( OVERLAY )) && overlay=(-vf "drawtext=text=$p:fontsize=32:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8:x=24:y=24")
  ffmpeg -hide_banner -loglevel warning -nostdin -re \
    -f lavfi -i "testsrc2=size=640x360:rate=25" -f lavfi -i "sine=frequency=1000:sample_rate=48000" \
    -map 0:v -map 1:a "${overlay[@]}" \
    -c:v libx264 -preset veryfast -tune zerolatency -pix_fmt yuv420p -b:v 800k -maxrate 800k -bufsize 1600k \
    -g 50 -keyint_min 50 -sc_threshold 0 \
    -c:a aac -b:a 96k -ar 48000 \
    -f dash -seg_duration "$SEG" -use_template 1 -use_timeline 0 "${dash_mode[@]}" \
    -method PUT -http_persistent 1 -http_opts auth_type=basic \
    "http://$p:$t@127.0.0.1:$ORIGIN_PORT/demo/manifest.mpd" >"$DIR/ffmpeg-$p.log" 2>&1 &
  FF_PID[$i]=$!
}
say "==> starting pipelines ${PIPES[0]} and ${PIPES[1]} (two ffmpeg processes, -re, same source)"
wait_ms=$(( AST_MS - FFMPEG_STARTUP_MS - $(now_ms) ))
if (( wait_ms > 0 )); then
  sleep "$((wait_ms / 1000)).$(printf %03d $((wait_ms % 1000)))"
else
  say "  note: setup took $(( -wait_ms )) ms longer than planned: the pipelines start that late"
fi
start_pipeline 0
start_pipeline 1
T0=$(now_ms)
say "  availability_start_time $AST; ffmpeg launched $(( T0 - AST_MS )) ms from it"
if ((LOW_LATENCY)); then
  python3 "$ROOT/scripts/ll_latency_probe.py" --url "$EDGE/demo/chunk-stream0-%05d.m4s" \
    --mpd "$EDGE/demo/manifest.mpd" --segment-ms "$((SEG * 1000))" --start-number 1 \
    --seconds "$((DURATION - 1))" >"$DIR/latency.txt" 2>&1 &
  PROBE_PID=$!
fi

cat <<EOF

  Player (through the edge): $EDGE/demo/manifest.mpd
  Origin MPD:                $ORIGIN/demo/manifest.mpd
  Event status (admin):      $ADMIN/admin/events/demo
  One object's candidates:   $ADMIN/admin/events/demo/objects/$(seg_name 3)
  Metrics:                   $ADMIN/metrics
  Working directory:         $DIR  (origin.log, ffmpeg-*.log, edge/access.log)

EOF
if [[ -n "$FAIL_AFTER" ]]; then
  say "  Pipeline ${PIPES[0]} will be killed (SIGKILL) after ${FAIL_AFTER} s; streaming for ${DURATION} s."
else
  say "  Streaming for ${DURATION} s (Ctrl-C stops everything)."
fi
say ""

# ---------------------------------------------------------------- status loop
served_any=0; killed_at=""; after_saved=0; prev_n=0; early_other=0
LAST_EDGE_PIPE=""; LAST_EDGE_CACHE=""; LAST_EDGE_CODE=""
edge_head() {  # NUMBER [OUTFILE] -> sets LAST_EDGE_*; the HEAD may be held by the origin
  local out="$DIR/head.tmp"
  curl -sI --max-time 10 "$EDGE/demo/$(seg_name "$1")" >"$out" || true
  LAST_EDGE_CODE=$(status_code <"$out"); LAST_EDGE_CODE=${LAST_EDGE_CODE:-ERR}
  LAST_EDGE_PIPE=$(hdr X-Live-Pipeline <"$out"); LAST_EDGE_CACHE=$(hdr X-Cache-Status <"$out")
  [[ -n "${2:-}" ]] && cp "$out" "$2"
  if [[ "$LAST_EDGE_CODE" == 200 && -n "$LAST_EDGE_PIPE" ]]; then served_any=1; fi
  return 0
}
check_alive() {
  kill -0 "$ORIGIN_PID" 2>/dev/null || { wait "$ORIGIN_PID" || true; ORIGIN_PID=""; die "liveorigin exited during the demo"; }
  kill -0 "$EDGE_PID" 2>/dev/null || { EDGE_PID=""; die "nginx exited during the demo"; }
  kill -0 "${FF_PID[1]}" 2>/dev/null || die "pipeline ${PIPES[1]}'s ffmpeg exited (see $DIR/ffmpeg-${PIPES[1]}.log)"
  if [[ -z "$killed_at" ]]; then
    kill -0 "${FF_PID[0]}" 2>/dev/null || die "pipeline ${PIPES[0]}'s ffmpeg exited (see $DIR/ffmpeg-${PIPES[0]}.log)"
  fi
}
next_tick=$(( T0 + 1000 ))   # mid-segment: both pipelines have PUT the newest segment
while :; do
  now=$(now_ms); t=$(( (now - T0) / 1000 ))
  (( now - T0 >= DURATION * 1000 )) && break
  check_alive

  if [[ -n "$FAIL_AFTER" && -z "$killed_at" ]] && (( now - T0 >= FAIL_AFTER * 1000 )); then
    curl -s "$ADMIN/admin/events/demo" >"$DIR/admin-before.json"
    kill -KILL "${FF_PID[0]}"
    wait "${FF_PID[0]}" 2>/dev/null || true
    FF_PID[0]=""; killed_at=$now
    say "[t+${t}s] *** killed pipeline ${PIPES[0]}'s ffmpeg (SIGKILL); status before saved to $DIR/admin-before.json"
  fi
  if [[ -n "$killed_at" ]] && (( !after_saved && now - killed_at >= 3 * SEG * 1000 )); then
    curl -s "$ADMIN/admin/events/demo" >"$DIR/admin-after.json"
    n=$(flat <"$DIR/admin-after.json" | newest_number)
    edge_head "$n" "$DIR/edge-head.txt"
    after_saved=1
    say "[t+${t}s] *** $(( (now - killed_at) / 1000 )) s after the kill: $DIR/admin-after.json, $DIR/edge-head.txt (segment $n: ${LAST_EDGE_PIPE:-none})"
  fi

  if (( now >= next_tick )); then
    admin=$(curl -s --max-time 2 "$ADMIN/admin/events/demo" | flat || true)
    edge=$(jget live_edge <<<"$admin")
    n=$(newest_number <<<"$admin")
    line="[t+${t}s] live edge ${edge:-?}"
    while read -r id last state sel since; do
      [[ -n "$id" ]] || continue
      line+=" | $id: last ${last}, ${state}, ${sel} served"
    done < <(pipeline_table <<<"$admin")
    if (( n > 0 )); then
      edge_head "$n"
      line+=" | edge $(seg_name "$n"): $LAST_EDGE_CODE ${LAST_EDGE_PIPE:--} ${LAST_EDGE_CACHE:--}"
      if [[ -z "$killed_at" && -n "$LAST_EDGE_PIPE" && "$LAST_EDGE_PIPE" != "${PIPES[0]}" ]]; then
        early_other=$((early_other + 1))
      fi
      if (( prev_n > 0 && prev_n < n )); then   # a second viewer of the previous segment: from the cache
        edge_head "$prev_n"
        line+=" (#$prev_n: ${LAST_EDGE_PIPE:--} ${LAST_EDGE_CACHE:--})"
      fi
      prev_n=$n
    else
      line+=" | no segment yet"
    fi
    say "$line"
    next_tick=$(( next_tick + SEG * 1000 ))
    (( next_tick < now )) && next_tick=$(( now + SEG * 1000 ))
  fi
  sleep 0.2
done

# ---------------------------------------------------------------- summary
say ""
say "==> summary"
summarize_admin() {  # FILE
  local f="$1"
  flat <"$f" >"$f.flat"
  say "  live_edge=$(jget live_edge <"$f.flat")  now=$(jget now <"$f.flat")"
  while read -r id last state sel since; do
    say "  $id: state=$state last_number=$last selections=$sel seconds_since_last_put=$since"
  done < <(pipeline_table <"$f.flat")
  rm -f "$f.flat"
}
fail=""
if [[ -n "$FAIL_AFTER" ]]; then
  say "$DIR/admin-before.json (just before the kill):"
  summarize_admin "$DIR/admin-before.json"
  say "$DIR/admin-after.json ($((3 * SEG)) s after the kill):"
  summarize_admin "$DIR/admin-after.json"
  say "$DIR/edge-head.txt (curl -sI through the edge, newest segment):"
  tr -d '\r' <"$DIR/edge-head.txt" | sed 's/^/  /'
  after_pipe=$(hdr X-Live-Pipeline <"$DIR/edge-head.txt")
  a_state=$(flat <"$DIR/admin-after.json" | jget pipelines.0.state)
  if [[ "$after_pipe" != "${PIPES[1]}" ]]; then
    fail="after the failover the newest segment was served by '${after_pipe:-nobody}', not ${PIPES[1]}"
  elif [[ "$a_state" != stalled ]]; then
    say "  note: ${PIPES[0]} is '$a_state' in admin-after.json, expected 'stalled'"
  fi
fi
if (( early_other > 0 )); then
  say "note: $early_other segment(s) were served by ${PIPES[1]} while ${PIPES[0]} was running: ${PIPES[0]} was"
  say "      later than availability + preferred_grace (see lateness_seconds in the admin JSON; a loaded machine?)"
fi
mpd=$(curl -sI --max-time 5 "$EDGE/demo/manifest.mpd" || true)
say "manifest through the edge: $(status_code <<<"$mpd") $(hdr Content-Type <<<"$mpd"), X-Live-Pipeline $(hdr X-Live-Pipeline <<<"$mpd")"
say "PUT through the edge: $(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary x "$EDGE/demo/manifest.mpd") (the edge only proxies GET/HEAD)"
refused=$(grep -c ' refused ' "$DIR/origin.log" || true)
aborted=$(grep -c ' aborted ' "$DIR/origin.log" || true)
say "origin log: $(grep -c . "$DIR/origin.log") lines, $(grep -c ' warning ' "$DIR/origin.log" || true) warnings," \
    "$refused refused PUTs, $aborted aborted PUTs${killed_at:+ (aborted = uploads in flight when us-east-1 was killed)}"
if (( refused + aborted > 0 )); then grep -E ' (refused|aborted) ' "$DIR/origin.log" | head -10 | sed 's/^/  /'; fi
(( served_any )) || fail="${fail:+$fail; }no segment was ever served through the edge"
if ((LOW_LATENCY)); then
  probe_rc=0
  wait "$PROBE_PID" 2>/dev/null || probe_rc=$?
  PROBE_PID=""
  say "low latency, video segments read through the edge while uploaded ($DIR/latency.txt):"
  sed 's/^/  /' "$DIR/latency.txt"
  (( probe_rc == 0 )) || fail="${fail:+$fail; }the latency probe measured no frame (exit $probe_rc)"
fi
if [[ -n "$fail" ]]; then die "$fail"; fi
(( KEEP )) || say "(the working directory is removed on exit; --keep keeps it)"
say "demo: OK"

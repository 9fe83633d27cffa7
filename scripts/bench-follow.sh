#!/usr/bin/env bash
# Fan-out of one upload in progress (SPEC §9): FOLLOWERS GETs follow a SIZE-byte
# chunked PUT sent in CHUNKS pieces 40 ms apart; prints, per piece, the time
# from writing it to the last follower having it (p50/p99/max), and the
# origin's RSS before the followers connected and with them.
#
#   scripts/bench-follow.sh
#   FOLLOWERS=1000 SIZE=2000000 CHUNKS=50 THREADS=2 scripts/bench-follow.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FOLLOWERS="${FOLLOWERS:-1000}"
SIZE="${SIZE:-2000000}"
CHUNKS="${CHUNKS:-50}"
THREADS="${THREADS:-2}"

./scripts/build.sh bench --target liveorigin follow_fanout_bench > /dev/null
ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d)
origin_pid=""
cleanup() {
  [[ -n "$origin_pid" ]] && kill "$origin_pid" 2>/dev/null && wait "$origin_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -p "$tmp/events"
cat > "$tmp/origin.yaml" <<YAML
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
data_dir: $tmp/data
events_dir: $tmp/events
threads: $THREADS
log: {level: error}
limits: {max_connections: $((FOLLOWERS + 100)), max_held_requests: $((FOLLOWERS + 100)), min_free_disk: 0}
YAML
cat > "$tmp/events/ll.yaml" <<YAML
id: ll
segment_duration: 2s
media_template: "\$RepresentationID\$/\$Number\$.m4s"
pipelines: [{id: a}]
low_latency: true
YAML
./build/bench/liveorigin --config "$tmp/origin.yaml" 2> "$tmp/origin.log" &
origin_pid=$!
ports=""
for _ in $(seq 100); do
  ports=$(ss -ltnp 2>/dev/null | awk -v pid="pid=$origin_pid," '$0 ~ pid {split($4,a,":"); print a[length(a)]}' | sort -n)
  [[ $(echo "$ports" | wc -w) -eq 2 ]] && break
  sleep 0.05
done
read -r p1 p2 <<<"$(echo $ports)"
if curl -sf "http://127.0.0.1:$p1/healthz" >/dev/null; then PORT=$p2; else PORT=$p1; fi
n=$(( $(date +%s) / 2 ))
./build/bench/bench/follow_fanout_bench "$PORT" "/ll/v/$n.m4s" "$FOLLOWERS" "$SIZE" "$CHUNKS" "$origin_pid"

#!/usr/bin/env bash
# Measures liveorigin against nginx (Debian) serving the same bytes, in one run:
#   - hot GET throughput for a 64 KiB and a 2 MB segment (wrk, same threads and
#     connections for both servers);
#   - the delay between a PUT and the release of HELD_GETS held GETs (p50/p99);
#   - peak RSS of the origin;
#   - Google Benchmark figures of the hot functions (micro_bench).
#
#   scripts/bench.sh                 # defaults: 10 s per wrk run, 10000 held GETs
#   DURATION=30 CONNECTIONS=128 HELD_GETS=20000 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
HELD_GETS="${HELD_GETS:-10000}"
NGINX_PORT="${NGINX_PORT:-18089}"

./scripts/setup-deps.sh --bench
mkdir -p build/bench
./scripts/build.sh bench --target liveorigin micro_bench hold_release_bench > build/bench/build.log 2>&1 || { tail -30 build/bench/build.log; exit 1; }

# Client and origin each hold HELD_GETS sockets: raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < HELD_GETS + 200 )); then
  echo "open-file limit $(ulimit -n) is too low for HELD_GETS=$HELD_GETS" >&2; exit 1
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"  # nginx workers run as www-data when started by root
origin_pid=""; nginx_pid=""
cleanup() {
  [[ -n "$origin_pid" ]] && kill "$origin_pid" 2>/dev/null && wait "$origin_pid" 2>/dev/null || true
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

mkdir -p "$tmp/events" "$tmp/www/bench/v" "$tmp/www/bench/w"
cat > "$tmp/origin.yaml" <<YAML
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
data_dir: $tmp/data
events_dir: $tmp/events
threads: 2
cache_size: 256MiB
log: {level: warn}
limits: {max_connections: $((HELD_GETS + 1000)), max_held_requests: $((HELD_GETS + 1000))}
YAML
cat > "$tmp/events/bench.yaml" <<YAML
id: bench
segment_duration: 2s
dvr_window: 2h
media_template: "\$RepresentationID\$/\$Number\$.m4s"
pipelines: [{id: a}]
hold: {max_wait: 20s}
preferred_grace: 0ms
YAML
./build/bench/liveorigin --config "$tmp/origin.yaml" 2> "$tmp/origin.log" &
origin_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/origin.log" 2>/dev/null && break; sleep 0.05; done
# "listening on" is logged at info; with level warn read the ports from /proc instead.
ports=$(ss -ltnp 2>/dev/null | awk -v pid="pid=$origin_pid," '$0 ~ pid {split($4,a,":"); print a[length(a)]}' | sort -n)
if [[ -z "$ports" ]]; then sleep 0.5; ports=$(ss -ltnp | awk -v pid="pid=$origin_pid," '$0 ~ pid {split($4,a,":"); print a[length(a)]}' | sort -n); fi
read -r p1 p2 <<<"$(echo $ports)"
# The admin listener answers /healthz; the main one does not.
if curl -sf "http://127.0.0.1:$p1/healthz" >/dev/null; then ADMIN=$p1; PORT=$p2; else ADMIN=$p2; PORT=$p1; fi

n=$(( $(date +%s) / 2 - 1 ))
head -c 65536 /dev/urandom > "$tmp/www/bench/v/$n.m4s"
head -c 2000000 /dev/urandom > "$tmp/www/bench/w/$n.m4s"
for r in v w; do
  curl -sf -o /dev/null -X PUT -H "X-Live-Pipeline: a" --data-binary "@$tmp/www/bench/$r/$n.m4s" \
    "http://127.0.0.1:$PORT/bench/$r/$n.m4s"
done

cat > "$tmp/nginx.conf" <<NGINX
worker_processes 2;
error_log $tmp/nginx-error.log;
pid $tmp/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { video/iso.segment m4s; }
  server { listen 127.0.0.1:$NGINX_PORT; root $tmp/www; }
}
NGINX
chmod -R a+rX "$tmp/www"
nginx -p "$tmp" -c "$tmp/nginx.conf" -g "daemon off;" &
nginx_pid=$!
sleep 0.5
curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/bench/v/$n.m4s" || { echo "nginx did not start" >&2; cat "$tmp/nginx-error.log"; exit 1; }

rps() {  # URL -> "requests/s MB/s"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1" > "$tmp/wrk.out"
  local r m p99
  r=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
  m=$(awk '/Transfer\/sec/ {v=$2; if (v ~ /GB/) {sub("GB","",v); v*=1024} else if (v ~ /MB/) {sub("MB","",v)} else if (v ~ /KB/) {sub("KB","",v); v/=1024}; print v}' "$tmp/wrk.out")
  p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.out")
  echo "$r $m $p99"
}
echo "liveorigin $(./build/bench/liveorigin --version | awk '{print $2}') vs $(nginx -v 2>&1 | sed 's/.*: //'); wrk -t2 -c$CONNECTIONS -d${DURATION}s; $(nproc) cores"
echo
printf "| %-26s | %14s | %14s | %7s |\n" "hot GET (same bytes)" "liveorigin" "nginx" "ratio"
printf "|%s|%s|%s|%s|\n" "----------------------------" "----------------" "----------------" "---------"
for case in "64 KiB segment:v" "2 MB segment:w"; do
  label=${case%%:*}; r=${case##*:}
  read -r o_rps o_mb o_p99 <<<"$(rps "http://127.0.0.1:$PORT/bench/$r/$n.m4s")"
  read -r g_rps g_mb g_p99 <<<"$(rps "http://127.0.0.1:$NGINX_PORT/bench/$r/$n.m4s")"
  printf "| %-26s | %8.0f req/s | %8.0f req/s | %7.2f |\n" "$label" "$o_rps" "$g_rps" "$(echo "$o_rps / $g_rps" | bc -l)"
  printf "| %-26s | %9.0f MB/s | %9.0f MB/s | %7.2f |\n" "$label throughput" "$o_mb" "$g_mb" "$(echo "$o_mb / $g_mb" | bc -l)"
  printf "| %-26s | %14s | %14s | %7s |\n" "$label p99 latency" "$o_p99" "$g_p99" ""
done
echo
echo "Held GETs released by one PUT ($HELD_GETS held on the next segment; nginx has no equivalent):"
h=$(( $(date +%s) / 2 ))
./build/bench/bench/hold_release_bench "$PORT" "$ADMIN" "/bench/h/$h.m4s" "$HELD_GETS" 65536
echo
echo "liveorigin peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' /proc/$origin_pid/status)"
echo
echo "Hot functions (Google Benchmark):"
./build/bench/bench/micro_bench --benchmark_min_time=0.2 2>/dev/null | grep -E "^(BM_|---|Benchmark)"

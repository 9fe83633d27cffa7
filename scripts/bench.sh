#!/usr/bin/env bash
# Measures liveorigin against nginx (Debian) on the same bytes, in one run,
# ROUNDS times with the two servers interleaved, and prints the median and the
# spread (min–max) of every figure:
#   - hot GET throughput and p99 for a 64 KiB and a 2 MB object (wrk; the
#     origin runs THREADS network threads, nginx THREADS worker processes);
#   - PUT of 1 MB bodies on 1 and on 4 connections: latency p50/p99 (wrk with
#     bench/put.lua; nginx stores them with its WebDAV module);
#   - HELD_GETS GETs held at the live edge and released by one PUT: when the
#     PUT's answer arrives, and when the last held GET has its whole 64 KiB
#     body, next to the floor of the same GETs on the published segment;
#   - CPU time (user + system) the origin spends per hot 64 KiB GET, and what
#     the CORS and CMSD headers add to it (micro_bench BM_DeliveryHead);
#   - PUT of 1 MB with and without a sha-256 Content-Digest to verify
#     (bench/digest_put.py: one connection, alternating, every body unique);
#   - peak RSS of the origin;
#   - Google Benchmark figures of the hot functions (micro_bench).
#
#   scripts/bench.sh
#   ROUNDS=5 DURATION=10 CONNECTIONS=64 THREADS=2 HELD_GETS=10000 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-8}"
PUT_DURATION="${PUT_DURATION:-5}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
HELD_GETS="${HELD_GETS:-10000}"
DIGEST_PUTS="${DIGEST_PUTS:-200}"
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

mkdir -p "$tmp/events" "$tmp/www/bench/v" "$tmp/www/bench/w" "$tmp/www/dav" "$tmp/client_body"
chmod 777 "$tmp/www/dav" "$tmp/client_body"
cat > "$tmp/origin.yaml" <<YAML
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
data_dir: $tmp/data
events_dir: $tmp/events
threads: $THREADS
cache_size: 256MiB
log: {level: warn}
limits: {max_connections: $((HELD_GETS + 1000)), max_held_requests: $((HELD_GETS + 1000)), min_free_disk: 0}
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
ports=""
for _ in $(seq 100); do
  ports=$(ss -ltnp 2>/dev/null | awk -v pid="pid=$origin_pid," '$0 ~ pid {split($4,a,":"); print a[length(a)]}' | sort -n)
  [[ $(echo "$ports" | wc -w) -eq 2 ]] && break
  sleep 0.05
done
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
worker_processes $THREADS;
error_log $tmp/nginx-error.log;
pid $tmp/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $tmp/client_body;
  types { video/iso.segment m4s; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $tmp/www;
    location /dav/ { dav_methods PUT; create_full_put_path on; client_max_body_size 8m; }
  }
}
NGINX
chmod -R a+rX "$tmp/www"
nginx -p "$tmp" -c "$tmp/nginx.conf" -g "daemon off;" &
nginx_pid=$!
sleep 0.5
curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/bench/v/$n.m4s" || { echo "nginx did not start" >&2; cat "$tmp/nginx-error.log"; exit 1; }

# wrk's latency figures in ms.
ms() { awk '{v=$1; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v*=1000}; printf "%.2f", v}' <<<"$1"; }
get_run() {  # URL -> "req/s MB/s p99ms"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1" > "$tmp/wrk.out"
  local r m p99
  r=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
  m=$(awk '/Transfer\/sec/ {v=$2; if (v ~ /GB/) {sub("GB","",v); v*=1024} else if (v ~ /MB/) {sub("MB","",v)} else if (v ~ /KB/) {sub("KB","",v); v/=1024}; print v}' "$tmp/wrk.out")
  p99=$(ms "$(awk '$1=="99%" {print $2}' "$tmp/wrk.out")")
  echo "$r $m $p99"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$origin_pid/stat"; }  # user + system, in clock ticks
put_run() {  # URL PREFIX CONNECTIONS [HEADER] -> "req/s p50ms p99ms"
  local threads=$(( $3 < 2 ? 1 : 2 ))
  BODY_BYTES=1048576 PUT_PREFIX="$2" PUT_HEADER="${4:-}" \
    wrk -t"$threads" -c"$3" -d"${PUT_DURATION}s" --latency -s bench/put.lua "$1" > "$tmp/wrk.out"
  if grep -q "Non-2xx" "$tmp/wrk.out"; then echo "PUT run had errors:" >&2; cat "$tmp/wrk.out" >&2; exit 1; fi
  echo "$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out") $(ms "$(awk '$1=="50%" {print $2}' "$tmp/wrk.out")") $(ms "$(awk '$1=="99%" {print $2}' "$tmp/wrk.out")")"
}

# A clean 64 KiB media segment for the hold benchmark: a real fMP4 fragment
# padded with a free box (a defective one would wait for its availability time).
python3 - "$tmp/clean64k.m4s" <<'PY'
import struct, sys
seg = open("tests/fixtures/media/dash_video_1.m4s", "rb").read()
pad = 65536 - len(seg)
assert pad >= 8, "fixture larger than 64 KiB"
open(sys.argv[1], "wb").write(seg + struct.pack(">I", pad) + b"free" + bytes(pad - 8))
PY

results="$tmp/results.txt"  # lines: figure server value
record() { echo "$1 $2 $3" >> "$results"; }
O="http://127.0.0.1:$PORT"; G="http://127.0.0.1:$NGINX_PORT"
for round in $(seq "$ROUNDS"); do
  echo "round $round/$ROUNDS ..." >&2
  order=(origin nginx); (( round % 2 == 0 )) && order=(nginx origin)
  for server in "${order[@]}"; do
    base=$O; [[ $server == nginx ]] && base=$G
    for r in v w; do
      [[ $server == origin ]] && cpu0=$(cpu_ticks)
      read -r rps mb p99 <<<"$(get_run "$base/bench/$r/$n.m4s")"
      if [[ $server == origin && $r == v ]]; then
        record get_v_cpu_us origin "$(awk -v t="$(( $(cpu_ticks) - cpu0 ))" -v hz="$(getconf CLK_TCK)" -v r="$rps" -v s="$DURATION" 'BEGIN {printf "%.2f", t / hz * 1e6 / (r * s)}')"
      fi
      record "get_${r}_rps" "$server" "$rps"; record "get_${r}_mbs" "$server" "$mb"; record "get_${r}_p99" "$server" "$p99"
    done
    for c in 1 4; do
      if [[ $server == origin ]]; then
        read -r rps p50 p99 <<<"$(put_run "$O" /bench/put/ "$c" "X-Live-Pipeline: a")"
      else
        read -r rps p50 p99 <<<"$(put_run "$G" /dav/ "$c")"
      fi
      record "put_c${c}_rps" "$server" "$rps"; record "put_c${c}_p50" "$server" "$p50"; record "put_c${c}_p99" "$server" "$p99"
    done
  done
  line=$(python3 bench/digest_put.py "$PORT" /bench/digest/ a "$DIGEST_PUTS") || { echo "digest benchmark failed: $line" >&2; exit 1; }
  for key in plain_p50 plain_p99 digest_p50 digest_p99 added_p50 added_p99; do
    record "digest_$key" origin "$(grep -o "$key=[-0-9.]*" <<<"$line" | cut -d= -f2)"
  done
  h=$(( $(date +%s) / 2 ))  # available within one d: its GETs are held
  line=$(./build/bench/bench/hold_release_bench "$PORT" "$ADMIN" "/bench/h/$h.m4s" "$HELD_GETS" "$tmp/clean64k.m4s") || { echo "hold benchmark failed: $line" >&2; exit 1; }
  echo "  hold: $line" >&2
  for key in put_ack_ms ratio_last; do
    record "hold_$key" origin "$(grep -o "$key=[0-9.]*" <<<"$line" | cut -d= -f2)"
  done
  record hold_last origin "$(sed -E 's/.*held_complete_ms p50=[0-9.]+ p99=[0-9.]+ last=([0-9.]+).*/\1/' <<<"$line")"
  record hold_floor_last origin "$(sed -E 's/.*floor_complete_ms p50=[0-9.]+ p99=[0-9.]+ last=([0-9.]+).*/\1/' <<<"$line")"
done

# median and min–max of a figure for one server
stat() { awk -v f="$1" -v s="$2" '$1==f && $2==s {print $3}' "$results" | sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "- - -"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f %.2f %.2f\n", m, a[1], a[NR]}'; }
# per-round ratio origin/nginx: median and min–max
ratio() { paste <(awk -v f="$1" '$1==f && $2=="origin" {print $3}' "$results") <(awk -v f="$1" '$1==f && $2=="nginx" {print $3}' "$results") | awk '{print $1/$2}' | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f (%.2f–%.2f)", m, a[1], a[NR]}'; }
cell() { read -r m lo hi <<<"$(stat "$1" "$2")"; printf "%s (%s–%s)" "$m" "$lo" "$hi"; }

echo "liveorigin $(./build/bench/liveorigin --version | awk '{print $2}') vs nginx $(nginx -v 2>&1 | sed 's/.*\///'); $THREADS origin threads / nginx workers; $(nproc) cores; $ROUNDS rounds, servers interleaved; median (min–max)"
echo
printf "| %-34s | %-26s | %-26s | %-20s |\n" "figure" "liveorigin" "nginx" "ratio origin/nginx"
printf "|%s|%s|%s|%s|\n" "------------------------------------" "----------------------------" "----------------------------" "----------------------"
row() { printf "| %-34s | %-26s | %-26s | %-20s |\n" "$1" "$(cell "$2" origin)" "$(cell "$2" nginx)" "$(ratio "$2")"; }
row "GET 64 KiB, req/s (c=$CONNECTIONS)" get_v_rps
row "GET 64 KiB, p99 ms" get_v_p99
row "GET 2 MB, req/s (c=$CONNECTIONS)" get_w_rps
row "GET 2 MB, MB/s" get_w_mbs
row "GET 2 MB, p99 ms" get_w_p99
row "PUT 1 MB, 1 connection, p50 ms" put_c1_p50
row "PUT 1 MB, 1 connection, p99 ms" put_c1_p99
row "PUT 1 MB, 1 connection, req/s" put_c1_rps
row "PUT 1 MB, 4 connections, p50 ms" put_c4_p50
row "PUT 1 MB, 4 connections, p99 ms" put_c4_p99
row "PUT 1 MB, 4 connections, req/s" put_c4_rps
echo
echo "$HELD_GETS GETs held on one segment, released by one PUT of a clean 64 KiB segment (whole bodies; nginx has no equivalent):"
echo "  PUT answered after (ms):                     $(cell hold_put_ack_ms origin)"
echo "  last held GET complete after the PUT (ms):   $(cell hold_last origin)"
echo "  floor: same GETs on the published segment:   $(cell hold_floor_last origin)"
echo "  ratio held / floor:                          $(cell hold_ratio_last origin)"
echo
echo "PUT 1 MB on one connection, without and with a sha-256 Content-Digest to verify ($DIGEST_PUTS each, alternating):"
echo "  without: p50 $(cell digest_plain_p50 origin) ms, p99 $(cell digest_plain_p99 origin) ms"
echo "  with:    p50 $(cell digest_digest_p50 origin) ms, p99 $(cell digest_digest_p99 origin) ms"
echo "  added:   p50 $(cell digest_added_p50 origin) ms, p99 $(cell digest_added_p99 origin) ms"
echo
micro="$tmp/micro.txt"
./build/bench/bench/micro_bench --benchmark_min_time=0.2 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true 2>/dev/null | grep -E "^(BM_|---|Benchmark)" > "$micro"
head_ns() { awk -v k="BM_DeliveryHead/interop_headers:$1_median" '$1==k {print $2}' "$micro"; }
read -r cpu_us _ _ <<<"$(stat get_v_cpu_us origin)"
echo "Origin CPU (user + system) per hot 64 KiB GET: $(cell get_v_cpu_us origin) us"
echo "CORS + CMSD headers per response (BM_DeliveryHead): $(awk -v a="$(head_ns 1)" -v b="$(head_ns 0)" -v c="$cpu_us" 'BEGIN {printf "%.0f ns, %.2f%% of that CPU", a - b, (a - b) / (c * 10)}')"
echo
echo "liveorigin peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' /proc/$origin_pid/status)"
echo
echo "Hot functions (Google Benchmark, 3 repetitions: mean, median, stddev):"
cat "$micro"

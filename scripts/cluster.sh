#!/usr/bin/env bash
# A local fleet for development (SPEC §10): a 3-server NATS JetStream cluster
# on loopback and N liveorigin nodes sharing it, all in the foreground until
# Ctrl-C (or SIGTERM), which stops every process this script started.
#   scripts/cluster.sh [N]          N origin nodes (default 2)
# Environment:
#   CLUSTER_DIR      working directory (default ./cluster): NATS stores, configs, logs
#   NATS_PORT        first NATS client port (default 4222)
#   ROUTE_PORT       first NATS cluster (route) port (default 6222)
#   ORIGIN_PORT      first node's listen port (default 8080; node i: +i)
#   ADMIN_PORT       first node's admin port (default 9090; node i: +i)
#   EVENTS_DIR       event files every node serves (default config/events)
#   MAX_PAYLOAD      NATS max_payload (default 8MB: most segments in one message)
# Nodes are named origin-1..origin-N. Logs: $CLUSTER_DIR/*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
nodes="${1:-2}"
if ! [[ "$nodes" =~ ^[1-9][0-9]?$ ]]; then
  echo "cluster.sh: N must be 1..99, got '$nodes'" >&2
  exit 2
fi
dir="$(realpath -m "${CLUSTER_DIR:-cluster}")"
nats_port="${NATS_PORT:-4222}"
origin_port="${ORIGIN_PORT:-8080}"
admin_port="${ADMIN_PORT:-9090}"
events_dir="$(realpath "${EVENTS_DIR:-config/events}")"
max_payload="${MAX_PAYLOAD:-8MB}"
route_port="${ROUTE_PORT:-6222}"

./scripts/setup-deps.sh
./scripts/build.sh release --target liveorigin
nats_server="$(command -v nats-server || echo /usr/sbin/nats-server)"
[[ -x "$nats_server" ]] || { echo "cluster.sh: nats-server not found (apt-get install nats-server)" >&2; exit 1; }
mkdir -p "$dir"

pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "cluster.sh: stopped"
}
trap stop_all INT TERM EXIT

servers=""
for i in 0 1 2; do
  servers+="${servers:+, }nats://127.0.0.1:$((nats_port + i))"
done
for i in 0 1 2; do
  routes=""
  for j in 0 1 2; do
    [[ $j -eq $i ]] || routes+="    nats-route://127.0.0.1:$((route_port + j))"$'\n'
  done
  cat > "$dir/nats$i.conf" <<CONF
server_name: nats$i
listen: 127.0.0.1:$((nats_port + i))
max_payload: $max_payload
jetstream { store_dir: "$dir/nats$i" }
cluster {
  name: liveorigin-dev
  listen: 127.0.0.1:$((route_port + i))
  routes: [
$routes  ]
}
CONF
  "$nats_server" -c "$dir/nats$i.conf" >>"$dir/nats$i.log" 2>&1 &
  pids+=($!)
done
echo "cluster.sh: NATS JetStream at $servers (logs in $dir)"

for ((i = 1; i <= nodes; i++)); do
  cat > "$dir/origin-$i.yaml" <<CONF
listen: 127.0.0.1:$((origin_port + i - 1))
admin_listen: 127.0.0.1:$((admin_port + i - 1))
data_dir: $dir/origin-$i-data
events_dir: $events_dir
cache_size: 256MiB
storage:
  engine: nats
  nats: {servers: [$servers], replicas: 3, prefix: liveorigin, node: origin-$i}
CONF
  ./build/release/liveorigin --check-config "$dir/origin-$i.yaml" >/dev/null
done

# A node cannot open the store before JetStream has elected its leaders (about
# a second): start each one again until it stays up.
start_node() {
  local i=$1 log="$dir/origin-$i.log"
  for attempt in $(seq 1 30); do
    local offset
    offset=$(stat -c %s "$log" 2>/dev/null || echo 0)
    ./build/release/liveorigin --config "$dir/origin-$i.yaml" >>"$log" 2>&1 &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      if tail -c +"$((offset + 1))" "$log" | grep -q "listening on"; then
        pids+=("$pid")
        echo "cluster.sh: origin-$i on 127.0.0.1:$((origin_port + i - 1)) (admin $((admin_port + i - 1)))"
        return 0
      fi
      sleep 0.2
    done
    wait "$pid" 2>/dev/null || true
    sleep 1
  done
  echo "cluster.sh: origin-$i does not start; see $log" >&2
  return 1
}
for ((i = 1; i <= nodes; i++)); do start_node "$i"; done
echo "cluster.sh: running; Ctrl-C stops everything"
wait -n "${pids[@]}" || true
echo "cluster.sh: a process exited; stopping the others" >&2

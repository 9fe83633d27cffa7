#!/usr/bin/env bash
# Docker smoke test (not part of CI): builds the image and runs it the way
# README.md and docker/Dockerfile document it, then the compose stack.
#
#   scripts/docker-smoke.sh [--import-base] [--keep-images]
#
#   --import-base  make missing base images locally, for machines that reach
#                  the Debian mirror but no image registry (see below)
#   --keep-images  keep the liveorigin:latest image built here
#
# Steps, each one failing the script when its check fails:
#   1. docker build -f docker/Dockerfile -t liveorigin .
#   2. docker run as documented (--ulimit nofile=65536:65536, a named volume,
#      config/events mounted read-only) and wait until it is healthy (/readyz)
#   3. PUT a media segment and an init segment of the demo event, GET them back
#      (bytes compared)
#   4. docker stop exits 0; a new container on the same volume serves the same
#      bytes; docker stop exits 0 again
#   5. a root-owned bind-mounted data directory: exit 2, and the message says
#      to chown it to 10001:10001
#   6. the compose stack (docker/compose.yaml; `docker compose` v2 or Debian's
#      docker-compose 1.29) with a project name of its own: an object PUT to
#      the origin is a MISS, then a HIT, through the nginx edge
#   7. the scale-out stack (docker/compose.cluster.yaml: three NATS JetStream
#      servers, origin-a and origin-b, the edge) with a project name of its
#      own: both nodes become healthy; a segment PUT to origin-a is served by
#      origin-b with the same bytes, and through the edge as a MISS, then a
#      HIT; /admin/events/demo on origin-b has a `cluster` entry for each
#      node; after `kill` of the NATS server leading the body stream (so that
#      JetStream must elect a new leader), a new segment is PUT to origin-a
#      every 0.5 s until one is acknowledged (within 60 s), origin-b serves
#      it, and both nodes still serve the segment acknowledged before;
#      `down -v` leaves no container, volume or network behind
#
# Host ports (busy ports are refused; below Linux's ephemeral range, so a
# program binding port 0 cannot take them mid-run): SMOKE_PORT (23080),
# SMOKE_ADMIN_PORT (23090), SMOKE_EDGE_PORT (23081), and for origin-b of step 7
# SMOKE_PORT_B (23082) and SMOKE_ADMIN_PORT_B (23092). docker run publishes
# them on 127.0.0.1; the compose stacks publish them as their files do (the
# admin ports on 127.0.0.1 only, the others on every interface).
#
# Base images: debian:bookworm, debian:bookworm-slim, nginx:1.25-bookworm and
# nats:2.9, pulled when missing. Without registry access, --import-base
#   - runs `debootstrap --variant=minbase bookworm` from the mirror apt uses,
#     then `docker import`s the tree as debian:bookworm (without apt's caches)
#     and as debian:bookworm-slim (also without documentation and locales);
#   - builds liveorigin-edge-nginx:bookworm from debian:bookworm with Debian's
#     nginx-light, and runs the edge from it (LIVEORIGIN_EDGE_IMAGE);
#   - builds liveorigin-nats:bookworm from debian:bookworm with Debian's
#     nats-server (2.9), and runs the NATS servers from it (LIVEORIGIN_NATS_IMAGE).
# By hand, as root:
#   apt-get install debootstrap
#   debootstrap --variant=minbase bookworm /tmp/bookworm http://deb.debian.org/debian
#   tar -C /tmp/bookworm --numeric-owner -c . | docker import --change 'CMD ["bash"]' - debian:bookworm
#   docker tag debian:bookworm debian:bookworm-slim
#
# It removes every container, volume and network it started, and the
# liveorigin image unless --keep-images; base images stay.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
IMPORT_BASE=0
KEEP_IMAGES=0
for arg in "$@"; do
  case "$arg" in
    --import-base) IMPORT_BASE=1 ;;
    --keep-images) KEEP_IMAGES=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

PORT="${SMOKE_PORT:-23080}"
ADMIN_PORT="${SMOKE_ADMIN_PORT:-23090}"
EDGE_PORT="${SMOKE_EDGE_PORT:-23081}"
PORT_B="${SMOKE_PORT_B:-23082}"
ADMIN_PORT_B="${SMOKE_ADMIN_PORT_B:-23092}"
IMAGE=liveorigin                      # as documented: liveorigin:latest
CONTAINER=liveorigin-smoke
VOLUME=liveorigin-smoke-data
PROJECT=liveorigin-smoke              # compose project: never the user's "liveorigin"
EDGE_IMAGE="${LIVEORIGIN_EDGE_IMAGE:-nginx:1.25-bookworm}"
LOCAL_EDGE_IMAGE=liveorigin-edge-nginx:bookworm
CLUSTER_PROJECT=liveorigin-smoke-cluster
NATS_IMAGE="${LIVEORIGIN_NATS_IMAGE:-nats:2.9}"
LOCAL_NATS_IMAGE=liveorigin-nats:bookworm
NOFILE=65536                          # the documented --ulimit nofile
T0=$(date +%s)

say() { printf '[%3ds] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { printf '[%3ds] docker-smoke: FAILED: %s\n' "$(($(date +%s) - T0))" "$*" >&2; exit 1; }

command -v docker >/dev/null || die "docker is not installed (Debian: apt-get install docker.io)"
command -v curl >/dev/null || die "curl is not installed"
command -v python3 >/dev/null || die "python3 is not installed (step 7 reads the admin API's JSON)"
docker info >/dev/null 2>&1 || die "cannot reach the Docker daemon (is dockerd running? are you in group docker?)"
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then
  COMPOSE=(docker-compose)
else
  die "neither 'docker compose' (v2) nor docker-compose (Debian: apt-get install docker-compose) is installed"
fi
for p in "$PORT" "$ADMIN_PORT" "$EDGE_PORT" "$PORT_B" "$ADMIN_PORT_B"; do
  if [[ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]]; then
    die "port $p is in use; pick others with SMOKE_PORT / SMOKE_ADMIN_PORT / SMOKE_EDGE_PORT / SMOKE_PORT_B / SMOKE_ADMIN_PORT_B"
  fi
done

# ---------------------------------------------------------------- cleanup
WORK=$(mktemp -d /tmp/liveorigin-docker-smoke.XXXXXX)
compose() {
  LIVEORIGIN_PORT="$PORT" LIVEORIGIN_ADMIN_PORT="$ADMIN_PORT" LIVEORIGIN_EDGE_PORT="$EDGE_PORT" \
    LIVEORIGIN_EDGE_IMAGE="$EDGE_IMAGE" LIVEORIGIN_NOFILE="$NOFILE" \
    "${COMPOSE[@]}" -p "$PROJECT" -f "$ROOT/docker/compose.yaml" "$@"
}
cluster() {
  LIVEORIGIN_PORT="$PORT" LIVEORIGIN_ADMIN_PORT="$ADMIN_PORT" LIVEORIGIN_EDGE_PORT="$EDGE_PORT" \
    LIVEORIGIN_PORT_B="$PORT_B" LIVEORIGIN_ADMIN_PORT_B="$ADMIN_PORT_B" \
    LIVEORIGIN_EDGE_IMAGE="$EDGE_IMAGE" LIVEORIGIN_NATS_IMAGE="$NATS_IMAGE" LIVEORIGIN_NOFILE="$NOFILE" \
    "${COMPOSE[@]}" -p "$CLUSTER_PROJECT" -f "$ROOT/docker/compose.cluster.yaml" "$@"
}
cleanup() {
  local st=$?
  set +e
  docker rm -f "$CONTAINER" "$CONTAINER-perm" >/dev/null 2>&1
  compose down -v --remove-orphans >/dev/null 2>&1
  cluster down -v --remove-orphans >/dev/null 2>&1
  docker volume rm "$VOLUME" >/dev/null 2>&1
  docker rmi "$IMAGE-build-stage:smoke" >/dev/null 2>&1
  if [[ $KEEP_IMAGES -eq 0 ]]; then docker rmi "$IMAGE:latest" >/dev/null 2>&1; fi
  rm -rf "$WORK"
  if [[ $st -eq 0 ]]; then say "cleaned up (base images kept)"; fi
  exit $st
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- base images
apt_mirror() {  # the first Debian mirror apt uses, else deb.debian.org
  local m
  m=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [[ -n "$m" ]] || m=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  echo "${m:-http://deb.debian.org/debian}"
}
import_debian_base() {
  command -v debootstrap >/dev/null || die "--import-base needs debootstrap (apt-get install debootstrap)"
  [[ $(id -u) -eq 0 ]] || die "--import-base needs root (debootstrap)"
  local mirror rootfs
  mirror=$(apt_mirror)
  rootfs="$WORK/bookworm"
  say "debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 || {
    tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
  local caches=(--exclude='./var/cache/apt/archives/*.deb' --exclude='./var/cache/apt/*.bin'
                --exclude='./var/lib/apt/lists/*')
  tar -C "$rootfs" --numeric-owner "${caches[@]}" -c . |
    docker import --change 'CMD ["bash"]' - debian:bookworm >/dev/null
  tar -C "$rootfs" --numeric-owner "${caches[@]}" --exclude='./usr/share/doc/*' \
      --exclude='./usr/share/man/*' --exclude='./usr/share/info/*' --exclude='./usr/share/locale/*' -c . |
    docker import --change 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
  rm -rf "$rootfs"
  say "imported debian:bookworm ($(docker image inspect -f '{{.Size}}' debian:bookworm | numfmt --to=iec)) and debian:bookworm-slim ($(docker image inspect -f '{{.Size}}' debian:bookworm-slim | numfmt --to=iec))"
}
build_local_edge() {
  say "building $LOCAL_EDGE_IMAGE from debian:bookworm with Debian's nginx-light"
  docker build -q -t "$LOCAL_EDGE_IMAGE" - >"$WORK/edge-build.log" 2>&1 <<'EOF' || {
FROM debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx-light \
 && rm -rf /var/lib/apt/lists/* \
 && install -d /var/cache/nginx
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
EOF
    cat "$WORK/edge-build.log" >&2; die "building the edge image failed"; }
}
build_local_nats() {
  say "building $LOCAL_NATS_IMAGE from debian:bookworm with Debian's nats-server"
  docker build -q -t "$LOCAL_NATS_IMAGE" - >"$WORK/nats-build.log" 2>&1 <<'EOF' || {
FROM debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends nats-server \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && nats-server --version
EXPOSE 4222 6222 8222
ENTRYPOINT ["/usr/sbin/nats-server"]
EOF
    cat "$WORK/nats-build.log" >&2; die "building the NATS image failed"; }
}
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
pull() { timeout 120 docker pull -q "$1" >/dev/null 2>&1; }

say "==> base images"
missing_base=()
for img in debian:bookworm debian:bookworm-slim; do
  have_image "$img" || pull "$img" || missing_base+=("$img")
done
if [[ ${#missing_base[@]} -gt 0 ]]; then
  if [[ $IMPORT_BASE -eq 1 ]]; then
    import_debian_base
  else
    cat >&2 <<EOF
Missing base image(s): ${missing_base[*]}, and no registry answered.
On a machine that reaches the Debian mirror but no image registry, make them
with debootstrap (as root):
  apt-get install debootstrap
  debootstrap --variant=minbase bookworm /tmp/bookworm $(apt_mirror)
  tar -C /tmp/bookworm --numeric-owner -c . | docker import --change 'CMD ["bash"]' - debian:bookworm
  docker tag debian:bookworm debian:bookworm-slim
or rerun this script with --import-base, which does exactly that (and builds
an nginx edge image from Debian's nginx-light).
EOF
    exit 2
  fi
fi
if ! have_image "$EDGE_IMAGE" && ! pull "$EDGE_IMAGE"; then
  if [[ $IMPORT_BASE -eq 1 ]]; then
    have_image "$LOCAL_EDGE_IMAGE" || build_local_edge
    EDGE_IMAGE=$LOCAL_EDGE_IMAGE
  else
    die "no image $EDGE_IMAGE and no registry: rerun with --import-base, or set LIVEORIGIN_EDGE_IMAGE to an nginx image you have"
  fi
fi
if ! have_image "$NATS_IMAGE" && ! pull "$NATS_IMAGE"; then
  if [[ $IMPORT_BASE -eq 1 ]]; then
    have_image "$LOCAL_NATS_IMAGE" || build_local_nats
    NATS_IMAGE=$LOCAL_NATS_IMAGE
  else
    die "no image $NATS_IMAGE and no registry: rerun with --import-base, or set LIVEORIGIN_NATS_IMAGE to a nats-server image you have"
  fi
fi
say "base images: debian:bookworm, debian:bookworm-slim; edge: $EDGE_IMAGE; NATS: $NATS_IMAGE"

# ---------------------------------------------------------------- 1. build
say "==> 1. docker build -f docker/Dockerfile -t $IMAGE ."
b0=$(date +%s)
# The build stage first, tagged, to report its dependency layer; the
# documented build below then takes it from the cache.
docker build --target build -f docker/Dockerfile -t "$IMAGE-build-stage:smoke" . \
  >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; die "docker build (build stage) failed"; }
docker build -f docker/Dockerfile -t "$IMAGE" . >>"$WORK/build.log" 2>&1 || {
  tail -40 "$WORK/build.log" >&2; die "docker build failed"; }
grep -iE "useradd|groupadd" "$WORK/build.log" | grep -i warn && die "useradd/groupadd warned during the build"
say "built in $(($(date +%s) - b0)) s; image $(docker image inspect -f '{{.Size}}' "$IMAGE" | numfmt --to=iec); $(docker run --rm "$IMAGE" --version); runs as $(docker run --rm --entrypoint id "$IMAGE")"
say "build stage: dependency layer $(docker history --no-trunc --format '{{.Size}} {{.CreatedBy}}' "$IMAGE-build-stage:smoke" |
  awk '/setup-deps.sh --build-only/ { print $1; exit }') (setup-deps.sh --build-only), tests not built"

# ---------------------------------------------------------------- 2. run
# Runs the documented command with the host ports of this script. Docker
# refuses --ulimit above its own hard limit; then use that limit, as the
# documentation says.
run_origin() {
  docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
  if ! docker run -d --name "$CONTAINER" --ulimit "nofile=$NOFILE:$NOFILE" \
      -p "127.0.0.1:$PORT:8080" -p "127.0.0.1:$ADMIN_PORT:9090" \
      -v "$VOLUME:/var/lib/liveorigin" \
      -v "$ROOT/config/events:/etc/liveorigin/events:ro" \
      "$IMAGE" >/dev/null 2>"$WORK/run.err"; then
    if grep -q "rlimit" "$WORK/run.err" && [[ "$NOFILE" == 65536 ]]; then
      NOFILE=$(docker run --rm --entrypoint sh "$IMAGE" -c 'ulimit -Hn')
      say "NOTE: Docker refused --ulimit nofile=65536:65536 ($(grep -o 'error setting rlimit type [0-9]*: [a-z ]*' "$WORK/run.err" | head -1)):"
      say "      its own hard limit is $NOFILE; running with --ulimit nofile=$NOFILE:$NOFILE as documented"
      run_origin
      return
    fi
    cat "$WORK/run.err" >&2
    die "docker run failed"
  fi
}
wait_healthy() {
  local i status
  for ((i = 0; i < 180; i++)); do
    status=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$CONTAINER")
    case "$status" in
      "running healthy") return 0 ;;
      running*) sleep 0.5 ;;
      *) docker logs "$CONTAINER" >&2; die "container is $status before becoming healthy" ;;
    esac
  done
  docker logs "$CONTAINER" >&2
  die "not healthy after 90 s ($status)"
}
say "==> 2. docker run (as documented, host ports $PORT/$ADMIN_PORT on 127.0.0.1)"
run_origin
wait_healthy
say "healthy: $(curl -s "http://127.0.0.1:$ADMIN_PORT/readyz")"
docker logs "$CONTAINER" 2>&1 | grep -E "open files|listening" | sed 's/^/      log: /'

# ---------------------------------------------------------------- 3. PUT/GET
N=$(($(date +%s) / 2 - 1))
SEG_PATH=demo/chunk-stream0-$(printf %05d "$N").m4s
INIT_PATH=demo/init-stream0.m4s
SEG_FILE=tests/fixtures/media/dash_video_1.m4s
INIT_FILE=tests/fixtures/media/dash_video_init.mp4
put() {  # PORT PATH FILE -> HTTP status
  curl -s -o /dev/null -w '%{http_code}' -u us-east-1:secret-a -X PUT --data-binary "@$3" \
    "http://127.0.0.1:$1/$2"
}
get_sha() {  # URL -> "status sha256"
  local body="$WORK/got" code
  code=$(curl -s -o "$body" -w '%{http_code}' "$1")
  echo "$code $(sha256sum <"$body" | cut -c1-16)"
}
want_sha() { echo "200 $(sha256sum <"$1" | cut -c1-16)"; }
say "==> 3. PUT and GET /$SEG_PATH and /$INIT_PATH"
st=$(put "$PORT" "$SEG_PATH" "$SEG_FILE"); [[ "$st" == 201 ]] || die "PUT $SEG_PATH answered $st, not 201"
st=$(put "$PORT" "$INIT_PATH" "$INIT_FILE"); [[ "$st" == 201 ]] || die "PUT $INIT_PATH answered $st, not 201"
got=$(get_sha "http://127.0.0.1:$PORT/$SEG_PATH")
[[ "$got" == "$(want_sha "$SEG_FILE")" ]] || die "GET $SEG_PATH: $got, want $(want_sha "$SEG_FILE")"
got=$(get_sha "http://127.0.0.1:$PORT/$INIT_PATH")
[[ "$got" == "$(want_sha "$INIT_FILE")" ]] || die "GET $INIT_PATH: $got, want $(want_sha "$INIT_FILE")"
say "PUT 201 and GET 200 with the same bytes for both (sha256 $(want_sha "$SEG_FILE" | cut -d' ' -f2) and $(want_sha "$INIT_FILE" | cut -d' ' -f2))"

# ---------------------------------------------------------------- 4. restart
stop_and_check() {
  local s0 code
  s0=$(date +%s)
  docker stop -t 20 "$CONTAINER" >/dev/null
  code=$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")
  [[ "$code" == 0 ]] || { docker logs --tail 20 "$CONTAINER" >&2; die "docker stop: exit status $code, not 0"; }
  say "docker stop: exit status 0 after $(($(date +%s) - s0)) s; last log line: $(docker logs --tail 1 "$CONTAINER" 2>&1)"
}
say "==> 4. stop, new container on the same volume, stop"
stop_and_check
run_origin
wait_healthy
say "$(docker logs "$CONTAINER" 2>&1 | grep -o 'data_dir .*restored[^)]*)' || true)"
got=$(get_sha "http://127.0.0.1:$PORT/$SEG_PATH")
[[ "$got" == "$(want_sha "$SEG_FILE")" ]] || die "after the restart GET $SEG_PATH: $got"
got=$(get_sha "http://127.0.0.1:$PORT/$INIT_PATH")
[[ "$got" == "$(want_sha "$INIT_FILE")" ]] || die "after the restart GET $INIT_PATH: $got"
say "the new container serves the same bytes for both"
stop_and_check
docker rm "$CONTAINER" >/dev/null
docker volume rm "$VOLUME" >/dev/null

# ---------------------------------------------------------------- 5. permissions
say "==> 5. a root-owned bind-mounted data directory"
mkdir -p "$WORK/root-owned-data"
chmod 0755 "$WORK/root-owned-data"
set +e
docker run --name "$CONTAINER-perm" --ulimit "nofile=$NOFILE:$NOFILE" \
  -v "$WORK/root-owned-data:/var/lib/liveorigin" "$IMAGE" >"$WORK/perm.log" 2>&1
code=$?
set -e
docker rm "$CONTAINER-perm" >/dev/null
if [[ $(stat -c %u "$WORK/root-owned-data") -ne 0 ]]; then
  say "skipped: the directory is not root-owned here (rootless Docker?)"
else
  [[ $code -eq 2 ]] || { cat "$WORK/perm.log" >&2; die "exit status $code, not 2"; }
  grep -q "chown -R 10001:10001" "$WORK/perm.log" || { cat "$WORK/perm.log" >&2; die "the error does not say chown -R 10001:10001"; }
  say "exit status 2: $(grep -o 'critical.*' "$WORK/perm.log" | head -1)"
fi

# ---------------------------------------------------------------- 6. compose
say "==> 6. ${COMPOSE[*]} -p $PROJECT -f docker/compose.yaml up -d (edge $EDGE_IMAGE, LIVEORIGIN_NOFILE=$NOFILE)"
if ! compose up -d >"$WORK/compose-up.log" 2>&1; then
  if grep -q "rlimit" "$WORK/compose-up.log" && [[ "$NOFILE" == 65536 ]]; then
    NOFILE=$(docker run --rm --entrypoint sh "$IMAGE" -c 'ulimit -Hn')
    say "NOTE: Docker refused the compose ulimits (nofile 65536); LIVEORIGIN_NOFILE=$NOFILE as documented"
    compose down -v >/dev/null 2>&1 || true
    compose up -d >"$WORK/compose-up.log" 2>&1 || { cat "$WORK/compose-up.log" >&2; die "compose up failed"; }
  else
    cat "$WORK/compose-up.log" >&2
    die "compose up failed"
  fi
fi
edge_ok=0
for ((i = 0; i < 120; i++)); do
  if curl -s -o /dev/null "http://127.0.0.1:$EDGE_PORT/"; then edge_ok=1; break; fi
  sleep 0.5
done
[[ $edge_ok -eq 1 ]] || { compose logs >&2; die "the edge did not answer on port $EDGE_PORT within 60 s"; }
compose ps
st=$(put "$PORT" "$INIT_PATH" "$INIT_FILE"); [[ "$st" == 201 ]] || die "PUT to the compose origin answered $st"
cache_status() {  # PATH -> "status X-Cache-Status" of a GET through the edge
  curl -s -o /dev/null -D - "http://127.0.0.1:$EDGE_PORT/$1" | tr -d '\r' |
    awk 'NR == 1 { c = $2 } tolower($1) == "x-cache-status:" { s = $2 } END { print c, s }'
}
first=$(cache_status "$INIT_PATH")
second=$(cache_status "$INIT_PATH")
say "GET /$INIT_PATH through the edge: first '$first', second '$second'"
[[ "$first" == "200 MISS" ]] || die "first GET through the edge: '$first', want '200 MISS'"
[[ "$second" == "200 HIT" ]] || die "second GET through the edge: '$second', want '200 HIT'"
# CORS: the origin's headers, once each (a browser refuses two
# Access-Control-Allow-Origin), here on an answer from the edge cache.
acao=$(curl -s -o /dev/null -D - -H 'Origin: https://player.example' \
  "http://127.0.0.1:$EDGE_PORT/$INIT_PATH" | tr -d '\r' | grep -ci '^access-control-allow-origin:' || true)
[[ "$acao" == 1 ]] || die "a GET through the edge has $acao Access-Control-Allow-Origin headers, want 1"
compose logs --no-color edge 2>&1 | grep -E "GET /$INIT_PATH" | sed 's/^/      edge: /' | tail -2
compose stop >/dev/null 2>&1
origin_id=$(compose ps -q origin)
code=$(docker inspect -f '{{.State.ExitCode}}' "$origin_id")
[[ "$code" == 0 ]] || die "compose stop: the origin exited $code, not 0"
say "compose stack: cache HIT through the edge; compose stop: the origin exited 0"

# ---------------------------------------------------------------- 7. cluster
# Times in milliseconds, printed as seconds with one decimal.
now_ms() { date +%s%3N; }
secs() { printf '%d.%d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }
project_ids() {  # [SERVICE] -> ids of the step 7 stack's containers, stopped ones too
  docker ps -aq --filter "label=com.docker.compose.project=$CLUSTER_PROJECT" \
    ${1:+--filter "label=com.docker.compose.service=$1"}
}
node_healthy() {  # SERVICE ADMIN_PORT -> 0 when the container is healthy and /readyz answers 200
  local id
  id=$(project_ids "$1")
  [[ -n "$id" ]] || return 1
  [[ "$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id")" == "running healthy" ]] &&
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/readyz")" == 200 ]]
}
restarts() { docker inspect -f '{{.RestartCount}}' "$(project_ids "$1")"; }
tally() {  # CODE... -> "503 x3, 500 x1", or "none"
  if [[ $# -eq 0 ]]; then echo none; return; fi
  printf '%s\n' "$@" | sort | uniq -c | sort -rn | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " } END { print "" }'
}
fetch() {  # URL OUT -> HTTP status, the body in OUT
  curl -s -o "$2" -w '%{http_code}' "$1"
}
same_bytes() {  # URL WANT_FILE -> 0 when the URL answers 200 with WANT_FILE's bytes
  [[ "$(fetch "$1" "$WORK/got")" == 200 ]] && cmp -s "$WORK/got" "$2"
}
edge_get() {  # PATH OUT -> "status X-Cache-Status" of a GET through the edge, the body in OUT
  curl -s -o "$2" -D - "http://127.0.0.1:$EDGE_PORT/$1" | tr -d '\r' |
    awk 'NR == 1 { c = $2 } tolower($1) == "x-cache-status:" { s = $2 } END { print c, s }'
}
cluster_view() {  # ADMIN_PORT -> "node:stale:same_config ..." of /admin/events/demo's `cluster`
  curl -s "http://127.0.0.1:$1/admin/events/demo" | python3 -c '
import json, sys
view = json.load(sys.stdin).get("cluster", [])
print(" ".join(sorted("%s:%s:%s" % (n.get("node"), "stale" if n.get("stale") else "fresh",
                                    "same_config" if n.get("same_config") else "other_config")
                      for n in view)))' 2>/dev/null || true
}
stream_leaders() {  # CONTAINER NATS_SERVER -> "stream=leader ..." from the server's monitoring port
  docker exec "$1" curl -s "http://$2:8222/jsz?streams=true" | python3 -c '
import json, sys
d = json.load(sys.stdin)
out = ["meta=%s" % d.get("meta_cluster", {}).get("leader")]
for account in d.get("account_details", []):
    for s in account.get("stream_detail", []):
        out.append("%s=%s" % (s["name"], s.get("cluster", {}).get("leader")))
print(" ".join(out))' 2>/dev/null || true
}
cluster_fail() {  # MESSAGE: show the stack's state and logs, then fail
  cluster ps >&2 || true
  cluster logs --no-color --tail 30 >&2 || true
  die "$1"
}

say "==> 7. ${COMPOSE[*]} -p $CLUSTER_PROJECT -f docker/compose.cluster.yaml up -d (NATS $NATS_IMAGE, ports $PORT/$PORT_B, admin $ADMIN_PORT/$ADMIN_PORT_B, edge $EDGE_PORT)"
c0=$(now_ms)
# The nodes start once JetStream has a meta leader; one that exits all the
# same (status 2) is restarted, but `up` may then give up on the edge, which
# waits for healthy nodes: it is run again once they are.
up_ok=1
cluster up -d >"$WORK/cluster-up.log" 2>&1 || up_ok=0
[[ $up_ok -eq 1 ]] || say "compose up returned before the nodes were healthy: $(grep -m1 -iE 'error|unhealthy|exited' "$WORK/cluster-up.log" || tail -1 "$WORK/cluster-up.log")"
healthy_a=""
healthy_b=""
while [[ -z "$healthy_a" || -z "$healthy_b" ]]; do
  if [[ -z "$healthy_a" ]] && node_healthy origin-a "$ADMIN_PORT"; then healthy_a=$(($(now_ms) - c0)); fi
  if [[ -z "$healthy_b" ]] && node_healthy origin-b "$ADMIN_PORT_B"; then healthy_b=$(($(now_ms) - c0)); fi
  (($(now_ms) - c0 < 120000)) || { cat "$WORK/cluster-up.log" >&2; cluster_fail "the nodes were not both healthy within 120 s"; }
  sleep 0.5
done
say "origin-a healthy after $(secs "$healthy_a") ($(restarts origin-a) restarts), origin-b after $(secs "$healthy_b") ($(restarts origin-b) restarts)"
if [[ $up_ok -eq 0 ]]; then
  cluster up -d >"$WORK/cluster-up.log" 2>&1 || { cat "$WORK/cluster-up.log" >&2; cluster_fail "compose up failed"; }
fi
edge_ok=0
for ((i = 0; i < 120; i++)); do
  if curl -s -o /dev/null "http://127.0.0.1:$EDGE_PORT/"; then edge_ok=1; break; fi
  sleep 0.5
done
[[ $edge_ok -eq 1 ]] || cluster_fail "the edge did not answer on port $EDGE_PORT within 60 s"

# b. PUT to origin-a, GET from origin-b.
N=$(($(date +%s) / 2 - 1))
C_PATH=demo/chunk-stream0-$(printf %05d "$N").m4s
st=$(put "$PORT" "$C_PATH" "$SEG_FILE"); [[ "$st" == 201 ]] || cluster_fail "PUT $C_PATH to origin-a answered $st, not 201"
st=$(fetch "http://127.0.0.1:$PORT_B/$C_PATH" "$WORK/from-b")
[[ "$st" == 200 ]] || cluster_fail "GET $C_PATH from origin-b answered $st, not 200"
cmp "$WORK/from-b" "$SEG_FILE" >&2 || cluster_fail "origin-b served other bytes for $C_PATH"
say "PUT /$C_PATH to origin-a: 201; GET from origin-b: 200, the same $(stat -c %s "$SEG_FILE") bytes"

# c. Through the edge: MISS, then HIT, same bytes.
first=$(edge_get "$C_PATH" "$WORK/edge-1")
second=$(edge_get "$C_PATH" "$WORK/edge-2")
say "GET through the edge: first '$first', second '$second'"
[[ "$first" == "200 MISS" ]] || cluster_fail "first GET through the edge: '$first', want '200 MISS'"
[[ "$second" == "200 HIT" ]] || cluster_fail "second GET through the edge: '$second', want '200 HIT'"
if ! cmp "$WORK/edge-1" "$SEG_FILE" >&2 || ! cmp "$WORK/edge-2" "$SEG_FILE" >&2; then
  cluster_fail "the edge served other bytes for $C_PATH"
fi
cluster logs --no-color edge 2>&1 | grep -E "GET /$C_PATH" | sed 's/^/      edge: /' | tail -2

# d. The cluster view on origin-b names both nodes (each node reports every 2 s).
want_view="origin-a:fresh:same_config origin-b:fresh:same_config"
for ((i = 0; i < 20; i++)); do
  view=$(cluster_view "$ADMIN_PORT_B")
  [[ "$view" == "$want_view" ]] && break
  sleep 0.5
done
[[ "$view" == "$want_view" ]] || cluster_fail "/admin/events/demo on origin-b: cluster '$view', want '$want_view'"
say "/admin/events/demo on origin-b: cluster $view"

# e. Kill one NATS server: the leader of the body stream, so that JetStream
# has to elect a new one (nats2 when the leaders cannot be read).
id_a=$(project_ids origin-a)
leaders=$(stream_leaders "$id_a" nats1)
victim=$(tr ' ' '\n' <<<"$leaders" | awk -F= '$1 ~ /_bodies$/ { print $2 }')
[[ "$victim" =~ ^nats[123]$ ]] || victim=nats2
say "JetStream leaders: ${leaders:-unknown}; killing $victim"
cluster kill "$victim" >"$WORK/cluster-kill.log" 2>&1 || { cat "$WORK/cluster-kill.log" >&2; cluster_fail "compose kill $victim failed"; }
k0=$(now_ms)
attempts=0
refused=()
while :; do
  attempts=$((attempts + 1))
  N=$(($(date +%s) / 2 - 1))
  # A new object on every attempt: rendition f<attempt>.
  F_PATH=demo/chunk-streamf$attempts-$(printf %05d "$N").m4s
  st=$(put "$PORT" "$F_PATH" "$SEG_FILE")
  [[ "$st" == 201 ]] && break
  refused+=("$st")
  (($(now_ms) - k0 < 60000)) || cluster_fail "no PUT acknowledged within 60 s of killing $victim (refused: $(tally "${refused[@]}"))"
  sleep 0.5
done
resumed=$(($(now_ms) - k0))
say "PUT /$F_PATH to origin-a: 201 $(secs "$resumed") after killing $victim (attempt $attempts; refused before it: $(tally "${refused[@]}"))"
same_bytes "http://127.0.0.1:$PORT_B/$F_PATH" "$SEG_FILE" || cluster_fail "origin-b does not serve /$F_PATH with the same bytes"
same_bytes "http://127.0.0.1:$PORT/$C_PATH" "$SEG_FILE" || cluster_fail "origin-a lost /$C_PATH"
same_bytes "http://127.0.0.1:$PORT_B/$C_PATH" "$SEG_FILE" || cluster_fail "origin-b lost /$C_PATH"
say "origin-b serves it with the same bytes; both nodes still serve /$C_PATH"

# f. down -v leaves nothing behind (the nodes' anonymous data volumes too).
mapfile -t c_ids < <(project_ids)
mapfile -t c_volumes < <(docker inspect -f '{{range .Mounts}}{{if .Name}}{{println .Name}}{{end}}{{end}}' "${c_ids[@]}" |
  sort -u | grep .)
cluster down -v --remove-orphans >"$WORK/cluster-down.log" 2>&1 || { cat "$WORK/cluster-down.log" >&2; die "compose down -v failed"; }
left=()
for id in $(project_ids); do left+=("container $id"); done
for v in "${c_volumes[@]}"; do
  if docker volume inspect "$v" >/dev/null 2>&1; then left+=("volume $v"); fi
done
for n in $(docker network ls -q --filter "label=com.docker.compose.project=$CLUSTER_PROJECT"); do left+=("network $n"); done
[[ ${#left[@]} -eq 0 ]] || die "compose down -v left: ${left[*]}"
say "down -v: no container, volume (${#c_volumes[@]}) or network of $CLUSTER_PROJECT left; step 7 took $(secs $(($(now_ms) - c0)))"
say "PASSED"

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
#
# Host ports (busy ports are refused; below Linux's ephemeral range, so a
# program binding port 0 cannot take them mid-run): SMOKE_PORT (23080),
# SMOKE_ADMIN_PORT (23090), SMOKE_EDGE_PORT (23081). docker run publishes them
# on 127.0.0.1; the compose stack publishes them as docker/compose.yaml does
# (the admin port on 127.0.0.1 only, the others on every interface).
#
# Base images: debian:bookworm, debian:bookworm-slim and nginx:1.25-bookworm,
# pulled when missing. Without registry access, --import-base
#   - runs `debootstrap --variant=minbase bookworm` from the mirror apt uses,
#     then `docker import`s the tree as debian:bookworm (without apt's caches)
#     and as debian:bookworm-slim (also without documentation and locales);
#   - builds liveorigin-edge-nginx:bookworm from debian:bookworm with Debian's
#     nginx-light, and runs the edge from it (LIVEORIGIN_EDGE_IMAGE).
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
IMAGE=liveorigin                      # as documented: liveorigin:latest
CONTAINER=liveorigin-smoke
VOLUME=liveorigin-smoke-data
PROJECT=liveorigin-smoke              # compose project: never the user's "liveorigin"
EDGE_IMAGE="${LIVEORIGIN_EDGE_IMAGE:-nginx:1.25-bookworm}"
LOCAL_EDGE_IMAGE=liveorigin-edge-nginx:bookworm
NOFILE=65536                          # the documented --ulimit nofile
T0=$(date +%s)

say() { printf '[%3ds] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { printf '[%3ds] docker-smoke: FAILED: %s\n' "$(($(date +%s) - T0))" "$*" >&2; exit 1; }

command -v docker >/dev/null || die "docker is not installed (Debian: apt-get install docker.io)"
command -v curl >/dev/null || die "curl is not installed"
docker info >/dev/null 2>&1 || die "cannot reach the Docker daemon (is dockerd running? are you in group docker?)"
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then
  COMPOSE=(docker-compose)
else
  die "neither 'docker compose' (v2) nor docker-compose (Debian: apt-get install docker-compose) is installed"
fi
for p in "$PORT" "$ADMIN_PORT" "$EDGE_PORT"; do
  if [[ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]]; then
    die "port $p is in use; pick others with SMOKE_PORT / SMOKE_ADMIN_PORT / SMOKE_EDGE_PORT"
  fi
done

# ---------------------------------------------------------------- cleanup
WORK=$(mktemp -d /tmp/liveorigin-docker-smoke.XXXXXX)
compose() {
  LIVEORIGIN_PORT="$PORT" LIVEORIGIN_ADMIN_PORT="$ADMIN_PORT" LIVEORIGIN_EDGE_PORT="$EDGE_PORT" \
    LIVEORIGIN_EDGE_IMAGE="$EDGE_IMAGE" LIVEORIGIN_NOFILE="$NOFILE" \
    "${COMPOSE[@]}" -p "$PROJECT" -f "$ROOT/docker/compose.yaml" "$@"
}
cleanup() {
  local st=$?
  set +e
  docker rm -f "$CONTAINER" "$CONTAINER-perm" >/dev/null 2>&1
  compose down -v --remove-orphans >/dev/null 2>&1
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
say "base images: debian:bookworm, debian:bookworm-slim; edge: $EDGE_IMAGE"

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
compose logs --no-color edge 2>&1 | grep -E "GET /$INIT_PATH" | sed 's/^/      edge: /' | tail -2
compose stop >/dev/null 2>&1
origin_id=$(compose ps -q origin)
code=$(docker inspect -f '{{.State.ExitCode}}' "$origin_id")
[[ "$code" == 0 ]] || die "compose stop: the origin exited $code, not 0"
say "compose stack: cache HIT through the edge; compose stop: the origin exited 0"
say "PASSED"

#!/usr/bin/env bash
# A container engine and stand-in images for the container tests (test/containers/), made from
# this machine's own packages: no image registry is needed.
#
#   sudo bash scripts/containers.sh up       start an engine if none answers, make missing images
#   bash scripts/containers.sh build         build the bridge image as the container suites do
#   sudo bash scripts/containers.sh down     stop the engine this script started (nothing else)
#   bash scripts/containers.sh status        what is there
#
# `up` is idempotent: an engine that already answers (yours, or one an earlier `up` started) is
# used as it is, and an image that is already there is kept. The images it makes:
#   claude-bridge-standin/debian:<codename>  debootstrap --variant=minbase from the Debian mirror
#                                            configured in /etc/apt/sources.list*
#   <the Dockerfile's NODE_IMAGE>            that base + this machine's node and npm, a `node` user
#                                            (uid 1000) and its CA bundle (NODE_EXTRA_CA_CERTS)
#   <docker-compose.yml's prometheus and     that base + Debian's prometheus and
#    alertmanager images>                    prometheus-alertmanager binaries, laid out like the
#                                            official images
# Each stand-in carries the label claude-monitoring-bridge.stand-in naming what it really runs.
# A tag that already names a real image (no such label) is never replaced.
#
# The engine it starts: Debian's dockerd on the default socket, with its own data and exec roots
# and pidfile under CLAUDE_BRIDGE_ENGINE_DIR (default /var/lib/claude-bridge-engine), and
# --iptables=false --ip-forward=false: it changes no firewall rule and forwards nothing.
# Needs root and the Debian packages docker.io and debootstrap (.ci/run installs them).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ENGINE_DIR=${CLAUDE_BRIDGE_ENGINE_DIR:-/var/lib/claude-bridge-engine}
EXEC_ROOT=/run/claude-bridge-engine # short: unix socket paths under it are limited to 108 bytes
PIDFILE=$ENGINE_DIR/dockerd.pid
ENGINE_LOG=$ENGINE_DIR/dockerd.log
SOCKET=/var/run/docker.sock
LABEL=claude-monitoring-bridge.stand-in
export DOCKER_BUILDKIT=0 # the legacy builder: BuildKit would fetch its frontend from a registry

say() { printf 'containers: %s\n' "$*"; }
die() {
  printf 'containers: %s\n' "$*" >&2
  exit 1
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 needs root: sudo bash scripts/containers.sh $2"
}

# The Debian package that provides each tool this script runs.
package_of() {
  case "$1" in
  docker | dockerd) echo docker.io ;;
  promtool) echo prometheus ;;
  amtool) echo prometheus-alertmanager ;;
  node | npm) echo nodejs ;;
  *) echo "$1" ;;
  esac
}

need_tools() {
  local missing=() packages=() tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 && continue
    missing+=("$tool")
    packages+=("$(package_of "$tool")")
  done
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]} (sudo apt-get install $(printf '%s\n' "${packages[@]}" | sort -u | paste -sd ' '))"
}

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# The pid of the dockerd this script started, when it still runs (checked by its command line, so
# a recycled pid is never taken for it).
our_dockerd() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  [[ "$cmdline" == *"dockerd "*"--data-root $ENGINE_DIR/data "* ]] || return 1
  echo "$pid"
}

start_engine() {
  if engine_answers; then
    if our_dockerd >/dev/null; then
      say "engine: reusing the one started earlier (pid $(our_dockerd), $ENGINE_DIR)"
    else
      say "engine: reusing the running engine ($(docker version --format 'server {{.Server.Version}}'))"
    fi
    return
  fi
  if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != "unix://$SOCKET" ]; then
    die "DOCKER_HOST=$DOCKER_HOST does not answer; unset it to let this script start an engine on $SOCKET"
  fi
  need_root "starting an engine" up
  need_tools dockerd docker
  if our_dockerd >/dev/null; then
    die "the engine this script started (pid $(our_dockerd)) runs but does not answer on $SOCKET; see $ENGINE_LOG"
  fi
  mkdir -p "$ENGINE_DIR/data" "$EXEC_ROOT"
  rm -f "$PIDFILE"
  say "engine: starting dockerd (data $ENGINE_DIR/data, log $ENGINE_LOG)"
  # setsid: the engine outlives this script (and CI's shell) until `down`.
  setsid dockerd \
    --data-root "$ENGINE_DIR/data" \
    --exec-root "$EXEC_ROOT" \
    --pidfile "$PIDFILE" \
    --host "unix://$SOCKET" \
    --iptables=false --ip-forward=false \
    --storage-driver=overlay2 \
    </dev/null >>"$ENGINE_LOG" 2>&1 &
  local started=$! waited=0
  until engine_answers; do
    if ! kill -0 "$started" 2>/dev/null; then
      tail -n 20 "$ENGINE_LOG" >&2
      die "dockerd exited; its log: $ENGINE_LOG"
    fi
    ((waited++ < 300)) || die "dockerd did not answer within 30 s; its log: $ENGINE_LOG"
    sleep 0.1
  done
  say "engine: ready (pid $(cat "$PIDFILE"), $(docker version --format 'server {{.Server.Version}}'), bridge $(bridge_address))"
}

stop_engine() {
  local pid
  if ! pid=$(our_dockerd); then
    say "engine: none started by this script is running; nothing stopped"
    return
  fi
  need_root "stopping the engine" down
  say "engine: stopping dockerd (pid $pid); it stops its containers first"
  kill -TERM "$pid"
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited++ > 600)); then
      say "engine: dockerd still runs after 60 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  rm -f "$PIDFILE"
  # dockerd leaves its namespace mounts under its exec root (netns/default); nothing else is there.
  local mounts
  mounts=$(awk -v root="$EXEC_ROOT/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r)
  [ -z "$mounts" ] || echo "$mounts" | xargs umount
  say "engine: stopped"
}

# The host's address on the default docker bridge (what host.docker.internal resolves to).
bridge_address() {
  local name
  name=$(docker network inspect bridge --format '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null) || true
  ip -4 -o addr show "${name:-docker0}" 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }'
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

stand_in_label() {
  local label
  label=$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null) || true
  [ "$label" = "<no value>" ] && label=''
  echo "$label"
}

# 0 when TAG must be (re)built: missing, or a stand-in made from other versions. A real image
# under the tag (no stand-in label) is kept.
needs_build() {
  local tag=$1 carries=$2 label
  image_exists "$tag" || return 0
  label=$(stand_in_label "$tag")
  [ -n "$label" ] && [ "$label" != "$carries" ]
}

describe_image() {
  local label
  label=$(stand_in_label "$1")
  if [ -z "$label" ]; then
    say "image: $1 is a real image (no stand-in label): kept"
  else
    say "image: $1 is there (stand-in: $label)"
  fi
}

host_codename() {
  # shellcheck disable=SC1091
  . /etc/os-release
  [ "${ID:-}" = debian ] && [ -n "${VERSION_CODENAME:-}" ] ||
    die "stand-ins copy this machine's binaries into a Debian base: this is not Debian (${PRETTY_NAME:-unknown})"
  echo "$VERSION_CODENAME"
}

# The first mirror apt is configured with for the suite itself (not -updates or -security):
# deb822 .sources files first, then the one-line format.
debian_mirror() {
  local codename=$1 file mirror=""
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    mirror=$(awk -v suite="$codename" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; suites = ""; types = ""; enabled = 1
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/) continue
          if (line ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", line); uris = line }
          else if (line ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", line); suites = " " line " " }
          else if (line ~ /^Types:/) { types = " " line " " }
          else if (line ~ /^Enabled:[ \t]*no/) { enabled = 0 }
        }
        if (enabled && types ~ / deb / && index(suites, " " suite " ")) { split(uris, u, /[ \t]+/); print u[1]; exit }
      }' "$file")
    [ -n "$mirror" ] && break
  done
  if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk -v suite="$codename" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite) { print $i; exit }
      }')
  fi
  [ -n "$mirror" ] || die "no Debian mirror for $codename in /etc/apt/sources.list*"
  echo "$mirror"
}

make_base() {
  local codename=$1 tag=$2 mirror rootfs started=$SECONDS
  if image_exists "$tag"; then
    say "image: $tag is there"
    return
  fi
  need_root "debootstrap" up
  need_tools debootstrap
  mirror=$(debian_mirror "$codename")
  rootfs=$(mktemp -d "$ENGINE_DIR/rootfs.XXXXXX")
  say "image: $tag: debootstrap --variant=minbase $codename from $mirror (log $ENGINE_DIR/debootstrap.log)"
  if ! debootstrap --variant=minbase "$codename" "$rootfs" "$mirror" >"$ENGINE_DIR/debootstrap.log" 2>&1; then
    tail -n 20 "$ENGINE_DIR/debootstrap.log" >&2
    rm -rf "$rootfs"
    die "debootstrap failed; its log: $ENGINE_DIR/debootstrap.log"
  fi
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | docker import \
    --message "debootstrap --variant=minbase $codename $mirror" \
    --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
  rm -rf "$rootfs"
  say "image: $tag made in $((SECONDS - started)) s"
}

build_stand_in() {
  local tag=$1 context=$2 started=$SECONDS log
  log=$ENGINE_DIR/build-$(echo "$tag" | tr '/:' '__').log
  if ! docker build --network none -t "$tag" "$context" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "building $tag failed; its log: $log"
  fi
  say "image: $tag built in $((SECONDS - started)) s, $(docker image inspect --format '{{.Size}}' "$tag" | awk '{ printf "%d MB", $1 / 1e6 }') (stand-in: $(stand_in_label "$tag"))"
}

# The value of `ARG NODE_IMAGE=` in the Dockerfile, and the images docker-compose.yml pins.
dockerfile_node_image() { sed -n 's/^ARG NODE_IMAGE=//p' "$REPO/Dockerfile" | head -n1; }
compose_image() {
  awk -v service="$1" '
    /^  [a-z]/ { current = $1; sub(/:$/, "", current) }
    current == service && $1 == "image:" { print $2; exit }' "$REPO/docker-compose.yml"
}
debian_version() { dpkg-query -W -f '${Version}' "$1"; }

# Each stand-in: its tag, what it carries (its label), and its build context.
node_tag() { dockerfile_node_image; }
node_carries() { echo "node $(node --version) and npm $(npm --version) from this machine, in place of $(node_tag)"; }
prometheus_tag() { compose_image prometheus; }
prometheus_carries() { echo "prometheus $(debian_version prometheus) (Debian package prometheus), in place of $(prometheus_tag)"; }
alertmanager_tag() { compose_image alertmanager; }
alertmanager_carries() {
  echo "alertmanager $(debian_version prometheus-alertmanager) (Debian package prometheus-alertmanager), in place of $(alertmanager_tag)"
}

node_context() {
  local context=$1 base=$2 version
  need_tools node npm
  version=$(node --version)
  cp "$(readlink -f "$(command -v node)")" "$context/node"
  cp -r "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$context/npm"
  cp /etc/ssl/certs/ca-certificates.crt "$context/ca-certificates.crt"
  cat >"$context/Dockerfile" <<EOF
FROM $base
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
    && groupadd --gid 1000 node \\
    && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
    && node --version && npm --version
# npm traffic from this machine may pass a TLS proxy whose certificate only its own bundle holds.
ENV NODE_VERSION=${version#v} NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
LABEL $LABEL="$(node_carries)"
CMD ["node"]
EOF
}

prometheus_context() {
  local context=$1 base=$2
  need_tools prometheus promtool
  cp /usr/bin/prometheus /usr/bin/promtool "$context/"
  cp -r /usr/share/prometheus/web "$context/web"
  cp /etc/prometheus/prometheus.yml "$context/prometheus.yml"
  cat >"$context/Dockerfile" <<EOF
FROM $base
COPY prometheus promtool /bin/
COPY web /usr/share/prometheus/web
COPY prometheus.yml /etc/prometheus/prometheus.yml
RUN mkdir -p /prometheus && chown -R nobody:nogroup /etc/prometheus /prometheus && /bin/prometheus --version
USER nobody
EXPOSE 9090
VOLUME ["/prometheus"]
WORKDIR /prometheus
LABEL $LABEL="$(prometheus_carries)"
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
EOF
}

alertmanager_context() {
  local context=$1 base=$2
  need_tools prometheus-alertmanager amtool
  cp /usr/bin/prometheus-alertmanager "$context/alertmanager"
  cp /usr/bin/amtool "$context/amtool"
  # Its templates: without default.tmpl Alertmanager cannot start.
  cp -r /usr/share/prometheus/alertmanager "$context/share"
  cp /etc/prometheus/alertmanager.yml "$context/alertmanager.yml"
  cat >"$context/Dockerfile" <<EOF
FROM $base
COPY alertmanager amtool /bin/
COPY share /usr/share/prometheus/alertmanager
COPY alertmanager.yml /etc/alertmanager/alertmanager.yml
RUN mkdir -p /alertmanager && chown -R nobody:nogroup /etc/alertmanager /alertmanager && /bin/alertmanager --version
USER nobody
EXPOSE 9093
VOLUME ["/alertmanager"]
WORKDIR /alertmanager
LABEL $LABEL="$(alertmanager_carries)"
ENTRYPOINT ["/bin/alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]
EOF
}

STAND_INS=(node prometheus alertmanager)

make_images() {
  local codename base kind tag context todo=()
  codename=$(host_codename)
  base=claude-bridge-standin/debian:$codename
  for kind in "${STAND_INS[@]}"; do
    tag=$("${kind}_tag")
    [ -n "$tag" ] || die "no image for $kind in the Dockerfile or docker-compose.yml"
    if needs_build "$tag" "$("${kind}_carries")"; then todo+=("$kind"); else describe_image "$tag"; fi
  done
  ((${#todo[@]} > 0)) || return 0
  make_base "$codename" "$base"
  for kind in "${todo[@]}"; do
    context=$(mktemp -d)
    "${kind}_context" "$context" "$base"
    build_stand_in "$("${kind}_tag")" "$context"
    rm -rf "$context"
  done
}

# The repository's Dockerfile, tagged as docker-compose.yml names the bridge image: the same
# command as test/containers/support/engine.ts, so that a build made here ahead of the suites
# (.ci/run does, in the background) is their layer cache. The legacy builder: BuildKit would
# fetch its frontend from a registry. Host networking: npm install must reach the registry.
build_bridge() {
  local tag started=$SECONDS log=$ENGINE_DIR/build-bridge.log
  tag=$(compose_image bridge)
  mkdir -p "$ENGINE_DIR"
  if ! docker build --network host -t "$tag" "$REPO" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "building $tag failed; its log: $log"
  fi
  say "image: $tag built from the Dockerfile in $((SECONDS - started)) s, $(docker image inspect --format '{{.Size}}' "$tag" | awk '{ printf "%d MB", $1 / 1e6 }')"
}

status() {
  if ! engine_answers; then
    say "engine: not running (start it: sudo bash scripts/containers.sh up)"
    return 1
  fi
  local pid kind tag missing=0
  pid=$(our_dockerd) || pid=''
  say "engine: $(docker version --format 'server {{.Server.Version}}')${pid:+, started by this script (pid $pid)}, bridge $(bridge_address)"
  for kind in "${STAND_INS[@]}"; do
    tag=$("${kind}_tag")
    if image_exists "$tag"; then describe_image "$tag"; else
      say "image: $tag missing"
      missing=1
    fi
  done
  return "$missing"
}

case "${1:-up}" in
up)
  need_tools docker
  mkdir -p "$ENGINE_DIR"
  start_engine
  make_images
  ;;
build) build_bridge ;;
down) stop_engine ;;
status) status ;;
*) die "usage: scripts/containers.sh [up|build|down|status]" ;;
esac

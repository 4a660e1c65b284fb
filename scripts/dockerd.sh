#!/usr/bin/env bash
# A Docker Engine for the tests of the `docker` provider: installs Debian's docker.io when it is
# missing, starts dockerd unless an engine already answers, waits for it, and prints its endpoint
# (unix:///var/run/docker.sock) on stdout. `scripts/dockerd.sh stop` stops the dockerd it started.
#
# The engine it starts is set up the way the provider's README section recommends:
# - data root /var/lib/docker on a btrfs loop file, storage driver btrfs: its quota groups let
#   the engine enforce a per-container disk size (StorageOpt size). (XFS project quotas under
#   overlay2 would do too, but this kernel has no XFS quota support.) When btrfs cannot be
#   mounted: overlay2 on the host filesystem (no disk limits), vfs when overlay is impossible
#   too. The chosen driver is printed on stderr;
# - user namespace remapping (container root = an unprivileged host uid range that does not
#   overlap the local provider's 131072..196607);
# - no inter-container traffic on the default bridge (our own network disables it too).
# Docker's iptables rules stay on: the runtime adds what keeps the local provider's nft table
# and Docker's FORWARD policy from breaking each other (see packages/runtime/src/host-firewall).
set -euo pipefail
SOCK=/var/run/docker.sock
ENDPOINT="unix://$SOCK"
PIDFILE=/run/pocketenv-dockerd.pid
DATA_ROOT=/var/lib/docker
DISK_IMAGE=/var/lib/pocketenv-docker.btrfs
DISK_SIZE=60G
REMAP_USER=pocketenv-docker
REMAP_START=655360
REMAP_COUNT=65536
LOG=/var/log/pocketenv-dockerd.log

answers() { curl -fsS --max-time 3 --unix-socket "$SOCK" http://docker/_ping >/dev/null 2>&1; }

if [ "${1:-}" = stop ]; then
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    echo "pocketenv: dockerd stopped" >&2
  fi
  exit 0
fi

if answers; then
  echo "$ENDPOINT"
  exit 0
fi

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v mkfs.btrfs >/dev/null 2>&1 || need+=(btrfs-progs)
if [ ${#need[@]} -gt 0 ]; then
  echo "pocketenv: installing ${need[*]} for the docker provider's tests…" >&2
  apt-get update -qq >&2
  # --no-install-recommends: no registry credential helpers, no docker-compose; policy-rc.d (if any) keeps the init script quiet.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# Storage: btrfs with quotas (disk limits), else overlay2 (or vfs) on the host filesystem.
driver=overlay2
if ! mountpoint -q "$DATA_ROOT"; then
  mkdir -p "$DATA_ROOT"
  if [ -z "$(ls -A "$DATA_ROOT")" ] && command -v mkfs.btrfs >/dev/null 2>&1; then
    [ -f "$DISK_IMAGE" ] || { truncate -s "$DISK_SIZE" "$DISK_IMAGE" && mkfs.btrfs -q "$DISK_IMAGE" >/dev/null; }
    mount -o loop "$DISK_IMAGE" "$DATA_ROOT" >&2 || echo "pocketenv: could not mount btrfs for dockerd; disk limits will not be enforced" >&2
  fi
fi
if [ "$(findmnt -no FSTYPE -T "$DATA_ROOT")" = btrfs ]; then
  driver=btrfs
  # Quotas on before the engine makes any subvolume: enabled later (dockerd does so lazily at
  # the first size), the accounting is inconsistent and no limit holds until a rescan.
  btrfs quota enable "$DATA_ROOT"
  if btrfs qgroup show "$DATA_ROOT" 2>&1 | grep -q inconsistent; then btrfs quota rescan -w "$DATA_ROOT" >/dev/null; fi
else
  probe=$(mktemp -d "$DATA_ROOT/.overlay-probe.XXXXXX")
  mkdir -p "$probe"/{l,u,w,m}
  if mount -t overlay overlay -o "lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w" "$probe/m" 2>/dev/null; then
    umount "$probe/m"
  else
    driver=vfs
  fi
  rm -rf "$probe"
fi
echo "pocketenv: dockerd storage driver $driver ($DATA_ROOT on $(findmnt -no FSTYPE -T "$DATA_ROOT"))" >&2

# The remap user: container uid 0..65535 = host $REMAP_START.. (a range no one else uses).
id "$REMAP_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$REMAP_USER"
for f in /etc/subuid /etc/subgid; do
  touch "$f"
  grep -q "^$REMAP_USER:" "$f" || echo "$REMAP_USER:$REMAP_START:$REMAP_COUNT" >>"$f"
done

mkdir -p /etc/docker
cat >/etc/docker/pocketenv-daemon.json <<EOF
{
  "storage-driver": "$driver",
  "data-root": "$DATA_ROOT",
  "userns-remap": "$REMAP_USER",
  "icc": false,
  "log-driver": "local",
  "features": { "buildkit": false }
}
EOF
echo "pocketenv: starting dockerd (log: $LOG)…" >&2
# setsid: dockerd outlives this script and is not in the caller's process group.
setsid dockerd --config-file /etc/docker/pocketenv-daemon.json --pidfile "$PIDFILE" -H "$ENDPOINT" >>"$LOG" 2>&1 </dev/null &
for _ in $(seq 1 150); do
  answers && { echo "$ENDPOINT"; exit 0; }
  sleep 0.2
done
echo "pocketenv: dockerd did not answer on $SOCK within 30s; last lines of $LOG:" >&2
tail -20 "$LOG" >&2
exit 1

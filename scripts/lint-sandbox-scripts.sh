#!/usr/bin/env bash
# Lints the scripts that run INSIDE sandboxes, where a mistake is hard to see and harder to
# debug: the service supervisor and its control commands (shellcheck, as POSIX sh: the base
# images' /bin/sh is dash) and the exec agent (perl -c). Run by scripts/test; installs Debian's
# shellcheck when it is missing (as root, like the rest of the setup).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v shellcheck >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "pocketenv: shellcheck is missing; install it with: sudo apt-get install -y shellcheck" >&2
    exit 1
  fi
  echo "pocketenv: installing shellcheck…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends shellcheck >&2 ||
    { apt-get -o DPkg::Lock::Timeout=600 update >&2 && apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends shellcheck >&2; }
fi

SERVICES=packages/server/src/services/sh
AGENT=packages/runtime/src/local/agent/exec-agent.pl
status=0

# Each file on its own (lib.sh is put in front of the others when they run: packages/server/src/services/scripts.ts).
shellcheck --shell=sh "$SERVICES"/*.sh || status=1

perl -c "$AGENT" || status=1

if [ "$status" -eq 0 ]; then echo "pocketenv: sandbox scripts lint clean" >&2; fi
exit "$status"

#!/usr/bin/env bash
# Installs the project's npm dependencies and builds its native modules from source.
# Run by ./pocketenv and scripts/test; safe to run again and concurrently (a lock serializes
# runs, and it does nothing when node_modules is up to date with package-lock.json).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
stamp=node_modules/.pocketenv-bootstrap
up_to_date() { [ -f "$stamp" ] && [ ! package-lock.json -nt "$stamp" ]; }
up_to_date && exit 0
mkdir -p .tmp
exec 9>.tmp/bootstrap.lock
flock 9
up_to_date && exit 0 # another run finished while we waited
echo "pocketenv: installing npm packages…" >&2
# npm 11 skips dependencies' install scripts; we build the native ones ourselves below.
npm ci --ignore-scripts --no-audit --no-fund >&2
echo "pocketenv: building native modules (better-sqlite3, node-pty) from source, about a minute…" >&2
npm rebuild better-sqlite3 node-pty >&2
touch "$stamp"

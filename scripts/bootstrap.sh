#!/usr/bin/env bash
# Installs the project's npm dependencies and builds its native modules from source.
# Sourced by ./pocketenv and scripts/test; safe to run again (it does nothing when up to date).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
stamp=node_modules/.pocketenv-bootstrap
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "pocketenv: installing npm packages…" >&2
  # npm 11 skips dependencies' install scripts; we build the native ones ourselves below.
  npm ci --ignore-scripts --no-audit --no-fund >&2
  echo "pocketenv: building native modules (better-sqlite3, node-pty) from source, about a minute…" >&2
  npm rebuild better-sqlite3 node-pty >&2
  touch "$stamp"
fi

#!/usr/bin/env bash
# Compiles the packages into packages/*/dist (scripts/build.mjs) when their sources changed since
# the last build; otherwise returns at once (a `find` over the sources, a few milliseconds).
# Run by ./pocketenv, scripts/test and vitest's global setup; safe to run concurrently (a lock
# serializes builds). `--force` builds even when nothing changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
stamp=.tmp/build.stamp
# What a build reads: sources (a deleted or added file changes its directory's mtime), the
# package manifests (exports), the dependencies, and the build itself.
inputs=(packages/*/src packages/*/package.json package-lock.json tsconfig.json scripts/build.mjs)
up_to_date() {
  [ "${1:-}" != --force ] && [ -f "$stamp" ] && [ -f packages/cli/dist/index.js ] &&
    [ -z "$(find "${inputs[@]}" -newer "$stamp" -print -quit)" ]
}
up_to_date "$@" && exit 0
mkdir -p .tmp
exec 9>.tmp/build.lock
flock 9
up_to_date "$@" && exit 0 # another run built while we waited
# The stamp takes the time the build STARTED: an edit made during the build is seen next time.
touch .tmp/build.stamp.next
node scripts/build.mjs
mv .tmp/build.stamp.next "$stamp"

# Shared by the supervisor and the server's control commands (POSIX sh; no bash, no procps).
# shellcheck disable=SC2034 # used by control.sh, which runs after this file
SERVICES=/run/pocketenv/services

# signal_session SIGNAL SID: signals every process of session SID, also those that moved to
# another process group (a service's own children), by reading /proc/<pid>/stat.
signal_session() {
  [ -n "$2" ] || return 0
  for stat in /proc/[0-9]*/stat; do
    { read -r line < "$stat"; } 2>/dev/null || continue
    set -f
    # After "pid (comm) ": state ppid pgrp session …  (comm may contain ") ", so cut at the last one)
    # shellcheck disable=SC2086
    set -- "$1" "$2" ${line##*) }
    set +f
    if [ "$6" = "$2" ]; then
      pid=${stat#/proc/}
      kill "-$1" "${pid%/stat}" 2>/dev/null
    fi
  done
  return 0
}

# running PID: the process exists and is not a zombie (a child not waited for yet still "exists").
running() {
  { read -r line < "/proc/$1/stat"; } 2>/dev/null || return 1
  set -f
  # shellcheck disable=SC2086
  set -- ${line##*) }
  set +f
  [ "$1" != Z ]
}

# boot_id: changes with every boot of the sandbox (the start time of its init), so a state file
# left by an earlier boot is never taken to describe processes of this one.
boot_id() {
  read -r line < /proc/1/stat || return 1
  set -f
  # shellcheck disable=SC2086
  set -- ${line##*) }
  set +f
  echo "${20}"
}

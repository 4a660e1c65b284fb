# Commands the server runs in the sandbox (through exec) to drive supervisors; lib.sh goes first.
# Service ids are checked by the server (svc_ + base62) before they get here.

# supervised ID: true while the supervisor of ID is alive (the pid file alone could be stale).
supervised() {
  sup=$(cat "$SERVICES/$1/supervisor.pid" 2>/dev/null) || return 1
  [ -n "$sup" ] || return 1
  case "$(tr '\0' ' ' < "/proc/$sup/cmdline" 2>/dev/null)" in
    *"$SERVICES/$1/supervise"*) return 0 ;;
  esac
  return 1
}

state_field() {
  sed -n "s/^$2=//p" "$SERVICES/$1/state" 2>/dev/null
}

# A service whose supervisor died (kill -9) may still run: end its session (if it is from this boot).
end_orphan() {
  supervised "$1" && return 0
  [ "$(state_field "$1" boot)" = "$(boot_id)" ] || return 0
  signal_session KILL "$(state_field "$1" pid)"
}

launch() {
  for id in "$@"; do
    supervised "$id" && continue
    end_orphan "$id"
    rm -f "$SERVICES/$id/state" "$SERVICES/$id/supervisor.pid" "$SERVICES/$id/stop"
    setsid -f /bin/sh "$SERVICES/$id/supervise" < /dev/null > /dev/null 2>&1
  done
  # Until each has recorded its first state, so the caller reads a real status (at most ~5 s).
  for id in "$@"; do
    i=0
    while [ ! -s "$SERVICES/$id/state" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  done
}

# prune ID...: removes what services other than these left (deleted while the sandbox was stopped).
prune() {
  for dir in "$SERVICES"/svc_*; do
    [ -d "$dir" ] || continue
    case " $* " in
      *" ${dir##*/} "*) ;;
      *) rm -rf "$dir" ;;
    esac
  done
  return 0
}

# boot ID...: at a start of the sandbox: every service it has now, nothing else.
boot() {
  prune "$@"
  launch "$@"
}

stop() {
  for id in "$@"; do
    [ -d "$SERVICES/$id" ] || continue
    : > "$SERVICES/$id/stop"
    if supervised "$id"; then
      kill -TERM "$sup" 2>/dev/null
      # The supervisor gives the service 5 s after TERM; allow it 10 s in all.
      i=0
      while supervised "$id" && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
      supervised "$id" && kill -KILL "$sup" 2>/dev/null
    fi
    end_orphan "$id"
    if [ "$(state_field "$id" status)" != STOPPED ]; then
      # It did not get to record the stop itself (killed, or never got going).
      printf 'status=STOPPED\npid=\nrestarts=%s\nexit=%s\nsupervisor=\nboot=%s\n' "$(state_field "$id" restarts)" "$(state_field "$id" exit)" "$(boot_id)" > "$SERVICES/$id/state.tmp" &&
        mv -f "$SERVICES/$id/state.tmp" "$SERVICES/$id/state"
    fi
  done
}

remove() {
  stop "$@"
  for id in "$@"; do rm -rf "${SERVICES:?}/$id"; done
}

# One block per service: "@<id> <supervised 0|1>", then its state file when it is from this boot.
status() {
  boot=$(boot_id)
  for id in "$@"; do
    if supervised "$id"; then echo "@$id 1"; else echo "@$id 0"; fi
    [ "$(state_field "$id" boot)" = "$boot" ] && cat "$SERVICES/$id/state" 2>/dev/null
  done
  return 0
}

logs() {
  cat "$SERVICES/$1/log.1" "$SERVICES/$1/log" 2>/dev/null | tail -n "$2"
}

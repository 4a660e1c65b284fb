# pocketenv service supervisor (POSIX sh; lib.sh is put in front of it). Written into the sandbox as
# /run/pocketenv/services/<id>/supervise next to `command`, and started detached (setsid), so
# it lives as long as the sandbox, not as long as the server.
#
# It runs the command with `sh -c` in /workspace, in a session of its own, restarts it when it
# exits (back-off 1 s, doubling to 30 s; back to 1 s once a run lasted 30 s), and stops it on
# SIGTERM: TERM to the service's session, KILL 5 s later. Output (stdout and stderr together)
# goes through a FIFO to awk, which keeps the last lines in `log` and `log.1`.
#
# `state` (replaced atomically) is what the server reads:
#   status=RUNNING|CRASHED|STOPPED  pid=<service pid>  restarts=<n>  exit=<last exit code>
#   supervisor=<pid>  boot=<boot_id>

dir=$(cd "$(dirname "$0")" && pwd) || exit 1
cd "$dir" || exit 1
echo $$ > supervisor.pid
run_cmd=$(cat command) || exit 1
boot=$(boot_id)

MAX_LOG_BYTES=262144  # per file: log + log.1 keep the last 256-512 KiB
BACKOFF_MAX=30
STABLE_AFTER=30
STOP_GRACE=5

child=
stopping=
restarts=0
last_exit=

write_state() {
  printf 'status=%s\npid=%s\nrestarts=%s\nexit=%s\nsupervisor=%s\nboot=%s\n' "$1" "$child" "$restarts" "$last_exit" "$$" "$boot" > state.tmp &&
    mv -f state.tmp state
}

say() {
  printf '[pocketenv] %s\n' "$*" >&3
}

trap 'stopping=1; [ -z "$child" ] || kill -TERM "-$child" 2>/dev/null' TERM INT HUP

rm -f out state.tmp
mkfifo out || exit 1
# mawk (Debian's awk) fills its whole input buffer before it looks at a pipe, unless interactive.
awk_bin='awk'
command -v mawk > /dev/null 2>&1 && awk_bin="mawk -W interactive"
# $awk_bin is split on purpose (a command and its options). The program is awk's: its $0 is not the shell's.
# shellcheck disable=SC2016
$awk_bin -v max="$MAX_LOG_BYTES" -v n="$(wc -c < log 2>/dev/null || echo 0)" '
  { print >> "log"; fflush("log"); n += length($0) + 1
    if (n >= max) { close("log"); system("mv -f log log.1"); n = 0 } }' < out &
exec 3> out
rm -f out

delay=1
while [ -z "$stopping" ] && [ ! -e stop ]; do
  started=$(date +%s)
  cd /workspace 2>/dev/null || cd /
  setsid sh -c "$run_cmd" < /dev/null >&3 2>&3 3>&- &
  child=$!
  # Without its own directory (the service was removed under it) the supervisor must not write
  # its state files wherever it stands (the workspace): end the service and itself.
  cd "$dir" || { signal_session KILL "$child"; exit 1; }
  write_state RUNNING
  wait "$child"
  code=$?
  last_exit=$code
  [ -n "$stopping" ] && break
  say "exited with code $code"
  signal_session KILL "$child"  # what it left behind would hold its ports
  child=
  [ $(( $(date +%s) - started )) -ge "$STABLE_AFTER" ] && delay=1
  write_state CRASHED
  say "restarting in ${delay}s"
  sleep "$delay" 3>&- &
  sleeper=$!
  wait "$sleeper"
  kill "$sleeper" 2>/dev/null
  delay=$(( delay * 2 ))
  [ "$delay" -gt "$BACKOFF_MAX" ] && delay=$BACKOFF_MAX
  [ -n "$stopping" ] && break
  restarts=$(( restarts + 1 ))
done

if [ -n "$child" ]; then
  signal_session TERM "$child"
  i=0
  while running "$child" && [ "$i" -lt $((STOP_GRACE * 10)) ]; do sleep 0.1; i=$((i + 1)); done
  signal_session KILL "$child"
  # 127: it was already waited for above (it ended as the stop came in).
  wait "$child"
  code=$?
  [ "$code" -ne 127 ] && last_exit=$code
fi
child=
say "stopped"
write_state STOPPED
# awk ends once every writer is gone; no waiting for it (an escaped daemon may keep the FIFO open).
exec 3>&-

#!/bin/bash
# systemctl stand-in for lab hosts, bind-mounted over /usr/bin/systemctl in each host's mount
# namespace. It knows one unit, keepalived.service, and runs it like Debian's unit
# (`keepalived --dont-fork`, reload = SIGHUP to the main PID) under a small supervisor that adds
# Restart=on-failure, so NRestarts, timestamps and the unit's memory cgroup behave like systemd's.
# Output formats follow systemd 252 (Debian 12): `show` Key=Value lines, `status` text, exit codes.
set -uo pipefail

# shellcheck source=/dev/null
. /run/lab/host.env
S=/run/keepalived-unit
UNIT=keepalived.service
LOG=/run/lab/keepalived.log
KEEPALIVED_ARGV=(/usr/sbin/keepalived --dont-fork --log-console --log-detail -f /etc/keepalived/keepalived.conf)
mkdir -p "$S"

alive() { [[ -n ${1:-} && $1 != 0 ]] && kill -0 "$1" 2>/dev/null; }
read_pid() { local p=''; [[ -r $1 ]] && read -r p <"$1"; [[ $p =~ ^[0-9]+$ ]] && alive "$p" && echo "$p" || echo 0; }
main_pid() { read_pid "$S/main.pid"; }
supervisor_pid() { read_pid "$S/supervisor.pid"; }
stamp() { date +%s >"$S/$1"; }

# ActiveState and SubState, derived from what is really running (a supervisor killed with -9 must
# not leave the unit claiming to be dead while keepalived still holds VIPs).
unit_state() {
  if alive "$(main_pid)"; then echo 'active running'
  elif alive "$(supervisor_pid)"; then echo 'activating auto-restart'
  elif [[ -e $S/failed ]]; then echo 'failed failed'
  else echo 'inactive dead'; fi
}

# printf's %()T is date(1) without a fork: `show` is on every status path, so it stays cheap.
fmt_time() { local t; [[ -r $S/$1 ]] && read -r t <"$S/$1" && printf '%(%a %Y-%m-%d %H:%M:%S %Z)T\n' "$t"; }

# systemd's format_timestamp_relative().
fmt_ago() {
  local d=$(( $(date +%s) - $(cat "$S/$1") ))
  local min=60 hour=3600 day=86400 week=604800 month=2629800 year=31557600
  if ((d >= year)); then echo "$((d / year)) years $(((d % year) / month)) months ago"
  elif ((d >= month)); then echo "$((d / month)) months $(((d % month) / day)) days ago"
  elif ((d >= week)); then echo "$((d / week)) weeks $(((d % week) / day)) days ago"
  elif ((d >= 2 * day)); then echo "$((d / day)) days ago"
  elif ((d >= 25 * hour)); then echo "1 day $(((d - day) / hour))h ago"
  elif ((d >= 6 * hour)); then echo "$((d / hour))h ago"
  elif ((d >= hour)); then echo "$((d / hour))h $(((d % hour) / min))min ago"
  elif ((d >= 5 * min)); then echo "$((d / min))min ago"
  elif ((d >= min)); then echo "$((d / min))min $((d % min))s ago"
  elif ((d > 0)); then echo "${d}s ago"
  else echo 'now'; fi
}

# systemd's format_bytes(): 1024-based, one decimal only when it is not zero ("120.6M", "4K").
fmt_bytes() {
  local b=$1 f=$((1 << 60)) u
  for u in E P T G M K; do
    if ((b >= f)); then
      local r=$(((b * 10 / f) % 10))
      if ((r > 0)); then echo "$((b / f)).$r$u"; else echo "$((b / f))$u"; fi
      return
    fi
    f=$((f >> 10))
  done
  echo "${b}B"
}

memory_current() {
  local f="$CGROUP_DIR/$CGROUP_MEMORY_FILE" v
  if [[ $CGROUP_MODE != none && -r $f ]] && alive "$(main_pid)" && read -r v <"$f"; then echo "$v"; else echo '[not set]'; fi
}

cgroup_pids() { [[ $CGROUP_MODE != none && -r $CGROUP_DIR/cgroup.procs ]] && cat "$CGROUP_DIR/cgroup.procs"; }
task_count() { local n; n=$(cgroup_pids | grep -c .); echo "${n:-0}"; }

# --- the unit's lifecycle ----------------------------------------------------------------------

# Runs detached (setsid) for as long as the unit is active: starts keepalived inside the memory
# cgroup and restarts it after a crash, like Restart=on-failure with RestartSec=1 and systemd's
# default start limit (5 starts in 10 s, then the unit is failed).
supervise() {
  echo "$BASHPID" >"$S/supervisor.pid"
  local starts=() rc pid now
  while :; do
    now=$(date +%s)
    starts=("${starts[@]}" "$now")
    if ((${#starts[@]} > 5)); then starts=("${starts[@]:1}"); fi
    if ((${#starts[@]} == 5 && now - starts[0] < 10)); then
      echo "keepalived.service: Start request repeated too quickly." >&2
      : >"$S/failed"
      break
    fi
    (
      if [[ $CGROUP_MODE != none ]]; then
        mkdir -p "$CGROUP_DIR"
        echo "$BASHPID" >"$CGROUP_DIR/cgroup.procs"
      fi
      exec "${KEEPALIVED_ARGV[@]}"
    ) &
    pid=$!
    echo "$pid" >"$S/main.pid"
    echo "$pid" >"$S/exec-main-pid"
    stamp exec-main-start
    stamp active-enter
    wait "$pid"
    rc=$?
    echo "$rc" >"$S/exec-main-status"
    [[ -e $S/stopping ]] && break
    # keepalived exits 0 only when asked to stop (SIGTERM): a clean exit ends the unit.
    if ((rc == 0)); then break; fi
    echo "keepalived.service: Main process exited, status=$rc; scheduling restart." >&2
    echo $(($(cat "$S/nrestarts" 2>/dev/null || echo 0) + 1)) >"$S/nrestarts"
    sleep 1
    [[ -e $S/stopping ]] && break
  done
  stamp inactive-enter
  rm -f "$S/main.pid" "$S/supervisor.pid"
}

do_start() {
  if alive "$(main_pid)" || alive "$(supervisor_pid)"; then return 0; fi
  rm -f "$S/stopping" "$S/failed"
  [[ -e $S/nrestarts ]] || echo 0 >"$S/nrestarts"
  # setsid + own stdio: neither an SSH session nor the caller's pipes may hold on to the daemon.
  setsid -f "$0" __supervise </dev/null >>"$LOG" 2>&1
  local i pid
  for ((i = 0; i < 100; i++)); do
    pid=$(main_pid)
    # keepalived writes its pid file once it has read the config and forked its VRRP child.
    if alive "$pid" && [[ -r /run/keepalived.pid && $(cat /run/keepalived.pid 2>/dev/null) == "$pid" ]]; then return 0; fi
    if ((i > 10)) && ! alive "$(supervisor_pid)" && ! alive "$pid"; then break; fi
    sleep 0.05
  done
  alive "$(main_pid)" && return 0
  echo "Job for $UNIT failed because the control process exited with error code." >&2
  echo "See \"systemctl status $UNIT\" and \"journalctl -xeu $UNIT\" for details." >&2
  return 1
}

do_stop() {
  : >"$S/stopping"
  local pid sup i
  pid=$(main_pid)
  sup=$(supervisor_pid)
  alive "$pid" && kill -TERM "$pid" 2>/dev/null
  # keepalived drops its VIPs and sends a priority-0 advert on SIGTERM; give it time to do so.
  for ((i = 0; i < 200; i++)); do alive "$pid" || break; sleep 0.05; done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null
  # The supervisor sees the stop flag and exits by itself (at most after its 1 s restart delay).
  for ((i = 0; i < 40; i++)); do alive "$sup" || break; sleep 0.05; done
  alive "$sup" && kill -TERM "$sup" 2>/dev/null
  # Leftover VRRP/checker children (their parent was killed) would keep VIPs: end the whole cgroup.
  local p
  for p in $(cgroup_pids); do [[ $p != 0 ]] && kill -KILL "$p" 2>/dev/null; done
  for ((i = 0; i < 40; i++)); do [[ -z $(cgroup_pids) ]] && break; sleep 0.05; done
  rm -f "$S/main.pid" "$S/supervisor.pid"
  [[ -e $S/inactive-enter ]] && (($(cat "$S/inactive-enter") >= $(cat "$S/active-enter" 2>/dev/null || echo 0))) || stamp inactive-enter
  return 0
}

# --- output ------------------------------------------------------------------------------------

PROPS_ORDER=(Type Restart PIDFile NotifyAccess Result MainPID NRestarts ExecMainStartTimestamp ExecMainPID ExecMainStatus
  ControlGroup MemoryCurrent TasksCurrent Id Names Description LoadState ActiveState SubState FragmentPath UnitFileState
  ActiveEnterTimestamp InactiveEnterTimestamp)

prop_value() {
  local known=$1 name=$2
  local state sub
  # do_show works the state out once for all properties (SHOW_STATE); elsewhere ask each time.
  if [[ -n ${SHOW_STATE:-} ]]; then read -r state sub <<<"$SHOW_STATE"; else read -r state sub <<<"$(unit_state)"; fi
  if [[ $known != yes ]]; then
    case $name in
      Id|Names) echo "$unit" ;;
      LoadState) echo 'not-found' ;;
      ActiveState) echo 'inactive' ;;
      SubState) echo 'dead' ;;
      MainPID|NRestarts|ExecMainPID|ExecMainStatus) echo 0 ;;
      MemoryCurrent|TasksCurrent) echo '[not set]' ;;
      Result) echo 'success' ;;
      *) echo '' ;;
    esac
    return
  fi
  case $name in
    Type) echo 'notify' ;;
    Restart) echo 'on-failure' ;;
    PIDFile) echo '/run/keepalived.pid' ;;
    NotifyAccess) echo 'all' ;;
    Result) [[ $state == failed ]] && echo 'start-limit-hit' || echo 'success' ;;
    MainPID) main_pid ;;
    NRestarts) local n=0; [[ -r $S/nrestarts ]] && read -r n <"$S/nrestarts"; echo "${n:-0}" ;;
    ExecMainStartTimestamp) fmt_time exec-main-start || echo '' ;;
    ExecMainPID) cat "$S/exec-main-pid" 2>/dev/null || echo 0 ;;
    ExecMainStatus) cat "$S/exec-main-status" 2>/dev/null || echo 0 ;;
    ControlGroup) [[ $state == active ]] && echo "$CGROUP_REL" || echo '' ;;
    MemoryCurrent) memory_current ;;
    TasksCurrent) if [[ $state == active ]]; then task_count; else echo '[not set]'; fi ;;
    Id|Names) echo "$UNIT" ;;
    Description) echo 'Keepalive Daemon (LVS and VRRP)' ;;
    LoadState) echo 'loaded' ;;
    ActiveState) echo "$state" ;;
    SubState) echo "$sub" ;;
    FragmentPath) echo '/lib/systemd/system/keepalived.service' ;;
    UnitFileState) echo 'enabled' ;;
    ActiveEnterTimestamp) fmt_time active-enter || echo '' ;;
    InactiveEnterTimestamp) fmt_time inactive-enter || echo '' ;;
    *) echo '' ;;
  esac
}

do_show() {
  local known=$1 p want
  SHOW_STATE=$(unit_state)
  for p in "${PROPS_ORDER[@]}"; do
    if ((${#props[@]} > 0)); then
      want=no
      for q in "${props[@]}"; do [[ $q == "$p" ]] && want=yes; done
      [[ $want == yes ]] || continue
    fi
    # No subshell per property: print the key, then let prop_value print the value and newline.
    if ((value)); then prop_value "$known" "$p"; else printf '%s=' "$p"; prop_value "$known" "$p"; fi
  done
}

do_status() {
  local state sub dot pid mem tag
  read -r state sub <<<"$(unit_state)"
  pid=$(main_pid)
  tag=$pid
  [[ $pid == 0 ]] && tag=$(cat "$S/exec-main-pid" 2>/dev/null || echo 0)
  case $state in active) dot='●' ;; failed) dot='×' ;; *) dot='○' ;; esac
  echo "$dot $UNIT - Keepalive Daemon (LVS and VRRP)"
  echo "     Loaded: loaded (/lib/systemd/system/keepalived.service; enabled; preset: enabled)"
  case $state in
    active) echo "     Active: active (running) since $(fmt_time active-enter); $(fmt_ago active-enter)" ;;
    activating) echo "     Active: activating (auto-restart) (Result: exit-code) since $(fmt_time inactive-enter 2>/dev/null || fmt_time active-enter); $(fmt_ago active-enter)" ;;
    failed) echo "     Active: failed (Result: start-limit-hit) since $(fmt_time inactive-enter); $(fmt_ago inactive-enter)" ;;
    *)
      if [[ -e $S/inactive-enter ]]; then echo "     Active: inactive (dead) since $(fmt_time inactive-enter); $(fmt_ago inactive-enter)"
      else echo "     Active: inactive (dead)"; fi
      ;;
  esac
  echo "       Docs: man:keepalived(8)"
  echo "             man:keepalived.conf(5)"
  echo "             man:genhash(1)"
  echo "             https://keepalived.org"
  if [[ $state == active ]]; then
    mem=$(memory_current)
    echo "   Main PID: $pid (keepalived)"
    echo "      Tasks: $(task_count) (limit: 4915)"
    [[ $mem != '[not set]' ]] && echo "     Memory: $(fmt_bytes "$mem")"
    echo "     CGroup: $CGROUP_REL"
    local pids=() p i
    mapfile -t pids < <(cgroup_pids)
    for ((i = 0; i < ${#pids[@]}; i++)); do
      p=${pids[i]}
      local branch='├─'
      ((i == ${#pids[@]} - 1)) && branch='└─'
      echo "             $branch$p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | sed 's/ $//')"
    done
  fi
  echo
  # Journal-style tail of keepalived's console log ("Thu Nov 26 19:12:00 2026: msg").
  tail -n 10 "$LOG" 2>/dev/null | sed -E "s/^[A-Z][a-z]{2} ([A-Z][a-z]{2} +[0-9]+ [0-9:]{8}) [0-9]{4}: /\1 $HOST_NAME Keepalived[$tag]: /"
  [[ $state == active ]] && return 0 || return 3
}

# --- argument parsing ----------------------------------------------------------------------------

props=()
value=0
quiet=0
verb=''
units=()
add_props() { local IFS=,; local p; for p in $1; do [[ -n $p ]] && props+=("$p"); done; }
while (($#)); do
  case $1 in
    -p | --property)
      if (($# < 2)); then echo "systemctl: option requires an argument -- '${1#-}'" >&2; exit 1; fi
      add_props "$2"
      shift
      ;;
    -p*) add_props "${1#-p}" ;;
    --property=*) add_props "${1#--property=}" ;;
    --value) value=1 ;;
    -q | --quiet) quiet=1 ;;
    --no-pager | -l | --full | --no-block | --no-legend | --system | -a | --all | --no-ask-password | --plain) ;;
    --) shift; break ;;
    -*) echo "systemctl: unrecognized option '$1'" >&2; exit 1 ;;
    *) if [[ -z $verb ]]; then verb=$1; else units+=("$1"); fi ;;
  esac
  shift
done
for u in "$@"; do if [[ -z $verb ]]; then verb=$u; else units+=("$u"); fi; done

if [[ $verb == __supervise ]]; then supervise; exit 0; fi
if [[ -z $verb ]]; then echo "systemctl (vipbot lab stand-in): a verb is required" >&2; exit 1; fi

case $verb in
  is-active | is-enabled | is-failed | show | status | start | stop | restart | reload | try-restart | reload-or-restart | daemon-reload) ;;
  *) echo "Unknown command verb '$verb'." >&2; exit 1 ;;
esac
if [[ $verb == daemon-reload ]]; then exit 0; fi
if ((${#units[@]} == 0)); then
  case $verb in
    show | status) units=("$UNIT") ;;
    *) echo "Too few arguments." >&2; exit 1 ;;
  esac
fi
if ((${#units[@]} > 1)); then echo "systemctl (vipbot lab stand-in): one unit at a time, please" >&2; exit 1; fi

unit=${units[0]}
[[ $unit == *.* ]] || unit="$unit.service"
known=no
[[ $unit == "$UNIT" ]] && known=yes
if [[ $unit =~ [^A-Za-z0-9@_.:-] ]]; then echo "Invalid unit name \"$unit\"." >&2; exit 1; fi

read -r state _ <<<"$(unit_state)"
case $verb in
  is-active)
    [[ $known == yes ]] || state=inactive
    ((quiet)) || echo "$state"
    [[ $state == active ]] && exit 0 || exit 3
    ;;
  is-failed)
    [[ $known == yes ]] || state=inactive
    ((quiet)) || echo "$state"
    [[ $state == failed ]] && exit 0 || exit 1
    ;;
  is-enabled)
    if [[ $known != yes ]]; then echo "Failed to get unit file state for $unit: No such file or directory" >&2; exit 1; fi
    ((quiet)) || echo enabled
    exit 0
    ;;
  show)
    do_show "$known"
    exit 0
    ;;
  status)
    if [[ $known != yes ]]; then echo "Unit $unit could not be found." >&2; exit 4; fi
    do_status
    exit $?
    ;;
esac

# start / stop / restart / reload on an unknown unit: systemd's "not found" job failure.
if [[ $known != yes ]]; then
  case $verb in
    stop) echo "Failed to stop $unit: Unit $unit not loaded." >&2 ;;
    *) echo "Failed to $verb $unit: Unit $unit not found." >&2 ;;
  esac
  exit 5
fi

case $verb in
  start) do_start ;;
  stop) do_stop ;;
  restart) do_stop; do_start ;;
  try-restart) if [[ $state == active ]]; then do_stop; do_start; fi ;;
  reload | reload-or-restart)
    pid=$(main_pid)
    if alive "$pid"; then
      kill -HUP "$pid"
    elif [[ $verb == reload-or-restart ]]; then
      do_start
    else
      echo "$unit is not active, cannot reload." >&2
      exit 1
    fi
    ;;
esac

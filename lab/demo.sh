#!/usr/bin/env bash
# `npm run demo` (as root): from a fresh machine to the vipbot console against a real 2-host lab.
# Starts Redis if it is not answering, installs node modules if missing, brings the lab up, runs the
# console with the lab's vipbot.yaml, and takes the lab down again when the console exits.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run as root (sudo npm run demo): the lab needs network namespaces, mounts and cgroups" >&2
  exit 1
fi

if ! redis-cli ping >/dev/null 2>&1; then
  if ! command -v redis-server >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
      echo "demo: installing redis-server"
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
        || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; }
    else
      echo "demo: Redis is not running and redis-server is not installed" >&2
      exit 1
    fi
  fi
  echo "demo: starting Redis on 127.0.0.1:6379 (no persistence)"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

[ -d node_modules ] || npm ci

lab_dir=${VIPBOT_LAB_DIR:-$PWD/.lab}
lab_down() { npm run -s lab -- down || true; }
# Not `exec`: the shell has to outlive the console to take the lab down.
trap lab_down EXIT
trap 'exit 130' INT TERM HUP

npm run -s lab -- up 2
# History to look at in the first minute: the notes' own crontab figures (mem.log + ps_mem.log) as
# node1's last days, under the console's queue prefix; the worker takes a first live sample at start.
VIPBOT_CONFIG="$lab_dir/vipbot.yaml" VIPBOT_QUEUE_PREFIX="${VIPBOT_QUEUE_PREFIX:-vipbot}-console" \
  node bin/vipbot.js memory import --node node1 --shift-to-now \
  test/fixtures/memory/notes-mem.log test/fixtures/memory/notes-ps_mem.log
echo "demo: lab up; try  /vip status . To see the notes' failover, in another terminal run"
echo "      npm run lab -- role node1 down && npm run lab -- role node2 PRIMARY"
echo "      then  /vip status  (preempt_hazard),  /vip promote node2 , and approve with"
echo "      :white_check_mark: <request-id> as @lead   (Ctrl-D or /quit to leave)"
echo "      /vip memory 30d  shows the notes' figures as node1's history, with the verdict and the chart"
VIPBOT_CONFIG="$lab_dir/vipbot.yaml" node bin/vipbot.js console

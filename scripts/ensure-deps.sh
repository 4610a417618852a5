#!/usr/bin/env bash
# Makes a fresh Debian/Ubuntu machine ready for the tests and the demo, and is quick when it already is:
# Debian packages (lab + SSH + pssh + fonts for charts + sudo, whose visudo checks the generated sudoers), Redis answering on 127.0.0.1:6379, node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

# docker-compose, systemd (systemd-analyze) and prometheus (promtool) check the deploy files; redis-sentinel for failover tests.
packages=(keepalived openssh-server openssh-client iproute2 pssh redis-server redis-tools redis-sentinel procps util-linux fonts-dejavu-core sudo
  docker-compose systemd prometheus)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-deps: missing Debian packages: ${missing[*]} — run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "ensure-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Package scripts must not start services on the host (sshd, keepalived, redis): the lab runs its own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

redis_url=${REDIS_URL:-redis://127.0.0.1:6379}
if ! redis-cli -u "$redis_url" ping >/dev/null 2>&1; then
  echo "ensure-deps: starting Redis on 127.0.0.1:6379" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli ping >/dev/null
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "ensure-deps: npm ci" >&2
  npm ci --no-audit --no-fund >/dev/null
fi

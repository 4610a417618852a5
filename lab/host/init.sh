#!/bin/bash
# PID 1 of one lab host: started by the lab inside the host's netns with a fresh mount, PID and UTS
# namespace. Builds the host's private view of the filesystem, reports ready, then reaps orphans
# (daemonised sshd/keepalived children end up here) until the lab kills it, which ends the whole host.
set -euo pipefail
dir=$1
# shellcheck source=/dev/null
. "$dir/host.env"

# Propagation is private (unshare --propagation private): nothing below leaks to the real system.
# A private tmpfs /run that carries the lab dir at /run/lab: the later binds over /root, /tmp and
# /etc/* cannot hide the host's files wherever the lab dir lives (repo under /root, VIPBOT_LAB_DIR
# under /tmp, ...).
mount -n -t tmpfs -o mode=0755,size=32m lab-run "$dir/stage"
mkdir "$dir/stage/lab"
mount -n --bind "$dir" "$dir/stage/lab"
mount -n --move "$dir/stage" /run
L=/run/lab
mkdir -p /run/sshd /run/lock /run/keepalived-unit
chmod 0755 /run/sshd

hostname "$HOST_NAME"
mount -n --bind "$L/etc-keepalived" /etc/keepalived
for f in passwd group shadow hosts; do mount -n --bind "$L/etc/$f" "/etc/$f"; done
# A private sudoers.d (empty until the lab's allowSudo writes one): the machine's own is never changed.
if [ -d /etc/sudoers.d ]; then mount -n --bind "$L/etc-sudoers.d" /etc/sudoers.d; fi
# A fresh home: the machine's own root dotfiles make every SSH command slow and noisy.
mount -n --bind "$L/root" /root
mount -n -t tmpfs -o mode=1777,size=64m lab-tmp /tmp
if [ -e /usr/bin/systemctl ]; then
  mount -n --bind "$L/bin/systemctl" /usr/bin/systemctl
else
  # Nothing to bind over on machines without systemd: lay the stand-in over /usr/bin instead.
  mount -n -t overlay lab-usr-bin -o "lowerdir=$L/bin:/usr/bin" /usr/bin
fi

# `ip netns exec` gave us a fresh sysfs (so /sys/class/net shows this host's links) but that drops
# the cgroup mounts; mount the memory hierarchy again so the systemctl stand-in can use it.
case "$CGROUP_MODE" in
  v1)
    mount -n -t tmpfs -o mode=0755,size=1m cgroup /sys/fs/cgroup
    mkdir -p "$CGROUP_MOUNT"
    mount -n -t cgroup -o "$CGROUP_OPTS" cgroup "$CGROUP_MOUNT"
    ;;
  v2)
    mount -n -t cgroup2 cgroup2 /sys/fs/cgroup
    ;;
esac

echo "$(date '+%F %T') $HOST_NAME ready"
: > "$L/ready"

# PID 1 ignores signals it has no handler for; let a plain `kill` end the host as well.
trap 'exit 0' TERM INT
while :; do
  sleep 3600 &
  wait $! || true
done

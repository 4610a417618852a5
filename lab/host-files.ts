// Text of the per-host files the lab writes: sshd_config, host.env, and the account files that add
// the `oracle` user inside a host without touching the real /etc.
import type { CgroupSetup } from './cgroup.ts';
import type { TopologyHost } from './topology.ts';

/** Path of the host's lab dir as the host itself sees it (init.sh binds it there). */
export const IN_HOST_LAB_DIR = '/run/lab';

export function renderSshdConfig(host: TopologyHost): string {
  return [
    `# vipbot lab sshd for ${host.name} (${host.ip}); started with -f, the real /etc/ssh is not used.`,
    `ListenAddress ${host.ip}:22`,
    `HostKey ${IN_HOST_LAB_DIR}/ssh/ssh_host_ed25519_key`,
    'PidFile /run/sshd.pid',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'AuthenticationMethods publickey',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // No PAM: no session modules, no logind, nothing slow between auth and the command.
    'UsePAM no',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'StrictModes yes',
    // The bot's pool and the benchmarks open many connections at once; the default 10:30:100 drops some.
    'MaxStartups 200',
    'MaxSessions 64',
    'LoginGraceTime 20',
    'AcceptEnv LANG LC_*',
    // internal-sftp needs no binary from the host's packages.
    'Subsystem sftp internal-sftp',
    'LogLevel INFO',
    '',
  ].join('\n');
}

/** Shell-sourced settings for init.sh and the systemctl stand-in (values are lab-made, never user text). */
export function renderHostEnv(host: TopologyHost, cgroup: CgroupSetup): string {
  const vars: Record<string, string> = {
    HOST_NAME: host.name,
    HOST_IP: host.ip,
    CGROUP_MODE: cgroup.mode,
    CGROUP_MOUNT: cgroup.mount,
    CGROUP_OPTS: cgroup.options,
    CGROUP_DIR: cgroup.mode === 'none' ? '' : `${cgroup.mount}/${cgroup.labGroup}/${host.name}`,
    CGROUP_REL: cgroup.mode === 'none' ? '' : `/${cgroup.labGroup}/${host.name}`,
    CGROUP_MEMORY_FILE: cgroup.memoryFile,
  };
  for (const [key, value] of Object.entries(vars)) {
    if (!/^[A-Za-z0-9_./,=:-]*$/.test(value)) throw new Error(`unexpected character in ${key}=${value}`);
  }
  return Object.entries(vars).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n';
}

export interface AccountFiles { passwd: string; group: string; shadow: string }

/** The unprivileged login the least-privilege tests use: sudo allows it exactly `vipbot sudoers`. */
export const LAB_BOT_USER = 'vipbot';
/** Its home inside a host (the host's lab dir carries it; the real /home is not touched). */
export const LAB_BOT_HOME = `${IN_HOST_LAB_DIR}/home/${LAB_BOT_USER}`;

/**
 * Copies of /etc/passwd, /etc/group and /etc/shadow with an `oracle` user (group oinstall, as Oracle
 * installs do), so `vrrp_script { user oracle }` and `runuser -u oracle` work inside the hosts.
 * Every password hash becomes `*`: the lab dir holds no secrets, and `*` is not "locked" for sshd.
 */
export function renderAccountFiles(base: AccountFiles): AccountFiles & { botUid: number; botGid: number } {
  const ours = (l: string): boolean => l.startsWith('oracle:') || l.startsWith(`${LAB_BOT_USER}:`);
  const passwdLines = lines(base.passwd).filter((l) => !ours(l));
  const groupLines = lines(base.group).filter((l) => !/^(oinstall|dba):/.test(l) && !l.startsWith(`${LAB_BOT_USER}:`));
  const shadowLines = lines(base.shadow)
    .filter((l) => !ours(l))
    .map((l) => {
      const fields = l.split(':');
      if (fields.length > 1) fields[1] = '*';
      return fields.join(':');
    });
  const usedUids = new Set(passwdLines.map((l) => Number(l.split(':')[2])));
  const usedGids = new Set(groupLines.map((l) => Number(l.split(':')[2])));
  let uid = 54321;
  while (usedUids.has(uid)) uid++;
  let gid = 54321;
  while (usedGids.has(gid) || usedGids.has(gid + 1)) gid++;
  passwdLines.push(`oracle:x:${uid}:${gid}:Oracle Database (vipbot lab):/home/oracle:/bin/bash`);
  groupLines.push(`oinstall:x:${gid}:`, `dba:x:${gid + 1}:oracle`);
  shadowLines.push('oracle:*:19000:0:99999:7:::');
  usedUids.add(uid);
  usedGids.add(gid).add(gid + 1);
  let botUid = uid + 1;
  while (usedUids.has(botUid)) botUid++;
  let botGid = gid + 2;
  while (usedGids.has(botGid)) botGid++;
  passwdLines.push(`${LAB_BOT_USER}:x:${botUid}:${botGid}:vipbot (least-privilege SSH user, vipbot lab):${LAB_BOT_HOME}:/bin/bash`);
  groupLines.push(`${LAB_BOT_USER}:x:${botGid}:`);
  shadowLines.push(`${LAB_BOT_USER}:*:19000:0:99999:7:::`);
  return { passwd: joinLines(passwdLines), group: joinLines(groupLines), shadow: joinLines(shadowLines), botUid, botGid };
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

function joinLines(list: string[]): string {
  return list.join('\n') + '\n';
}

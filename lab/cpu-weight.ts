// The lab's hosts stand in for other machines, but here they share the bot's cores. With the kernel's
// autogroup scheduling every SSH command the lab runs is its own session, weighted like the whole bot:
// during a 20-host status burst the bot's Slack thread waited seconds for a CPU. Putting every lab
// process in one CPU cgroup with a low weight makes the lab use the CPU the bot leaves, as remote
// hosts would. cgroup v1 `cpu` controller only (cgroup v2 would move keepalived out of its memory
// cgroup); elsewhere the lab runs unconfined and the caller is told why.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { LAB_CGROUP, type CgroupSetup } from './cgroup.ts';

export interface CpuWeightResult {
  /** The cgroup the lab's processes are now in (the hierarchy's root when unconfined). */
  cgroup?: string;
  shares?: number;
  /** Processes moved into the group by this call. */
  moved: number;
  /** Why the lab could not be confined. */
  reason?: string;
}

/** Finds the v1 `cpu` hierarchy's mount point, if there is one. */
export async function cpuHierarchy(): Promise<string | undefined> {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return undefined;
  for (const line of (await readFile('/proc/self/mounts', 'utf8')).split('\n')) {
    const [, mountPoint, fsType, opts] = line.split(' ');
    if (fsType === 'cgroup' && mountPoint && opts?.split(',').includes('cpu')) return mountPoint;
  }
  return undefined;
}

/**
 * Puts every process of the given hosts (everything in their PID namespaces) into `<cpu>/vipbot-lab`
 * with `shares`, or back into the hierarchy's root (`'unconfined'`, as the lab starts). Children
 * forked later (SSH sessions, track scripts) inherit the group.
 */
export async function setLabCpuShares(initPids: readonly number[], shares: number | 'unconfined', memory?: CgroupSetup): Promise<CpuWeightResult> {
  if (shares !== 'unconfined' && (!Number.isInteger(shares) || shares < 2 || shares > 262_144)) {
    throw new Error(`cpu shares must be an integer from 2 to 262144 (1024 is the default), or "unconfined" (lab cpu-shares off); not ${shares}`);
  }
  const mount = await cpuHierarchy();
  if (!mount) return { moved: 0, reason: existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'cgroup v2: not supported by the lab yet' : 'no cgroup v1 cpu controller mounted' };
  // On v1 the cpu and memory controllers may share one hierarchy; then moving processes would take
  // keepalived out of the memory group that MemoryCurrent reads.
  if (memory?.mode === 'v1' && memory.mount === mount) return { moved: 0, reason: `cpu and memory share ${mount}` };
  let target = mount;
  if (shares !== 'unconfined') {
    target = `${mount}/${LAB_CGROUP}`;
    await mkdir(target, { recursive: true });
    await writeFile(`${target}/cpu.shares`, String(shares));
  }
  const namespaces = new Set(await Promise.all(initPids.map((pid) => readlink(`/proc/${pid}/ns/pid`))));
  let moved = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ns = await readlink(`/proc/${entry}/ns/pid`).catch(() => undefined);
    if (ns === undefined || !namespaces.has(ns)) continue;
    // A process that exits meanwhile is simply gone (ESRCH).
    if (await writeFile(`${target}/cgroup.procs`, entry).then(() => true, () => false)) moved++;
  }
  return { cgroup: target, ...(shares !== 'unconfined' ? { shares } : {}), moved };
}

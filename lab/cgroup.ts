// Memory cgroups for the lab hosts' keepalived, so `systemctl show -p MemoryCurrent` and the
// `Memory:` line of `systemctl status` report a real kernel figure (page cache included, as in the
// DBA notes) on cgroup v1 and v2 machines alike.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { sleep } from './run.ts';

export const LAB_CGROUP = 'vipbot-lab';

export interface CgroupSetup {
  mode: 'v1' | 'v2' | 'none';
  /** Mount point of the hierarchy holding the memory controller (same path inside the hosts). */
  mount: string;
  /** v1 mount options naming the hierarchy's controllers (a second mount must name the same set). */
  options: string;
  /** Name of the parent group under `mount`; hosts get `<mount>/<labGroup>/<node>`. */
  labGroup: string;
  memoryFile: string;
  /** Why there is no memory accounting, when mode is none. */
  reason?: string;
}

/** Finds the memory controller: v2 when /sys/fs/cgroup is the unified hierarchy, else a v1 mount. */
export async function detectCgroup(): Promise<CgroupSetup> {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const controllers = (await readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8')).split(/\s+/);
    if (!controllers.includes('memory')) {
      return none('cgroup v2 without the memory controller');
    }
    return { mode: 'v2', mount: '/sys/fs/cgroup', options: '', labGroup: LAB_CGROUP, memoryFile: 'memory.current' };
  }
  const subsystems = new Set(
    (await readFile('/proc/cgroups', 'utf8').catch(() => ''))
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t')[0]),
  );
  for (const line of (await readFile('/proc/self/mounts', 'utf8')).split('\n')) {
    const [, mountPoint, fsType, opts] = line.split(' ');
    if (fsType !== 'cgroup' || !mountPoint || !opts) continue;
    const options = opts.split(',').filter((o) => subsystems.has(o) || o.startsWith('name='));
    if (options.includes('memory')) {
      if (!mountPoint.startsWith('/sys/fs/cgroup/')) return none(`memory cgroup mounted at ${mountPoint}, outside /sys/fs/cgroup`);
      return { mode: 'v1', mount: mountPoint, options: options.join(','), labGroup: LAB_CGROUP, memoryFile: 'memory.usage_in_bytes' };
    }
  }
  return none('no memory cgroup controller mounted');
}

function none(reason: string): CgroupSetup {
  return { mode: 'none', mount: '', options: '', labGroup: LAB_CGROUP, memoryFile: '', reason };
}

/** Creates `<mount>/vipbot-lab/<node>` for each host; on v2 first delegates the memory controller. */
export async function createHostCgroups(setup: CgroupSetup, nodes: string[]): Promise<CgroupSetup> {
  if (setup.mode === 'none') return setup;
  const parent = `${setup.mount}/${setup.labGroup}`;
  try {
    await mkdir(parent, { recursive: true });
    if (setup.mode === 'v2') {
      // The root's subtree_control usually has memory already (systemd); inside a container it may
      // not, and enabling it there fails while the container's own processes sit in the root.
      const rootControl = await readFile(`${setup.mount}/cgroup.subtree_control`, 'utf8');
      if (!rootControl.split(/\s+/).includes('memory')) await writeFile(`${setup.mount}/cgroup.subtree_control`, '+memory');
      await writeFile(`${parent}/cgroup.subtree_control`, '+memory');
    }
    await Promise.all(nodes.map((n) => mkdir(`${parent}/${n}`, { recursive: true })));
    return setup;
  } catch (err) {
    return none(`cannot create ${parent}: ${(err as Error).message}`);
  }
}

/** Removes every lab cgroup, v1 and v2 locations alike (a killed run may have used either). */
export async function removeLabCgroups(): Promise<string[]> {
  const parents = [`/sys/fs/cgroup/${LAB_CGROUP}`];
  for (const line of (await readFile('/proc/self/mounts', 'utf8').catch(() => '')).split('\n')) {
    const [, mountPoint, fsType] = line.split(' ');
    if ((fsType === 'cgroup' || fsType === 'cgroup2') && mountPoint) parents.push(`${mountPoint}/${LAB_CGROUP}`);
  }
  const left: string[] = [];
  for (const parent of new Set(parents)) {
    if (!existsSync(parent)) continue;
    const children = (await readdir(parent, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => `${parent}/${d.name}`);
    for (const dir of [...children, parent]) {
      if (!(await rmdirRetry(dir))) left.push(dir);
    }
  }
  return left;
}

// A cgroup stays busy for a moment after its last task was killed.
async function rmdirRetry(dir: string): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      await rmdir(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code !== 'EBUSY') return false;
      await sleep(50);
    }
  }
  return false;
}

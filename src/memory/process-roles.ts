/**
 * Which keepalived process is which. keepalived runs a parent that forks a VRRP child (and a checker
 * child for LVS health checks, and a BFD child when configured). By default all of them have the same
 * command line, so the role is inferred from what the samples tell:
 *
 * - parent: systemd's MainPID; else the process whose ppid is not a keepalived pid; else the session
 *   leader (`Ss` in ps STAT, as systemd starts it); else the lowest pid of the sample.
 * - children: a name set by `process_names` (`keepalived_vrrp`, `…_check`/`…_ipvs`, `…_bfd`); else the
 *   VRRP child is the one with the most CPU time (it sends adverts every second, the checker idles);
 *   else, with exactly two children, the higher pid is VRRP, because keepalived forks the checker first.
 */
import { z } from 'zod';
import type { MemorySample } from './sample.ts';

/** What a keepalived process is; `child` when the samples cannot tell which child. */
export const ProcessRole = z.enum(['parent', 'vrrp', 'checker', 'bfd', 'child']);
export type ProcessRole = z.infer<typeof ProcessRole>;

const ROLE_TEXT: Record<ProcessRole, string> = {
  parent: 'parent',
  vrrp: 'VRRP child',
  checker: 'checker child',
  bfd: 'BFD child',
  child: 'child',
};

/** `pid 23147 (VRRP child)`. */
export function describeProcess(pid: number, role: ProcessRole): string {
  return `pid ${pid} (${ROLE_TEXT[role]})`;
}

function roleFromCommand(command: string | undefined): ProcessRole | undefined {
  if (!command) return undefined;
  const argv0 = command.trim().split(/\s+/)[0] ?? '';
  if (/vrrp/i.test(argv0)) return 'vrrp';
  if (/check|ipvs|healthcheck/i.test(argv0)) return 'checker';
  if (/bfd/i.test(argv0)) return 'bfd';
  return undefined;
}

/** Roles of every keepalived pid seen in the samples. */
export function inferProcessRoles(samples: readonly MemorySample[]): Map<number, ProcessRole> {
  const roles = new Map<number, ProcessRole>();
  const parents = new Set<number>();
  const mainPids = new Set(samples.flatMap((s) => (s.mainPid !== undefined ? [s.mainPid] : [])));

  for (const sample of samples) {
    const pids = new Set(sample.processes.map((p) => p.pid));
    if (sample.processes.length === 0) continue;
    let parent = sample.processes.find((p) => mainPids.has(p.pid))
      ?? sample.processes.find((p) => p.ppid !== undefined && !pids.has(p.ppid))
      ?? sample.processes.find((p) => p.stat !== undefined && p.stat.includes('s'));
    // A lone process with nothing else to go on stays undecided; another sample may decide it.
    if (!parent && sample.processes.length > 1) parent = [...sample.processes].sort((a, b) => a.pid - b.pid)[0];
    if (parent) parents.add(parent.pid);
  }
  for (const pid of parents) roles.set(pid, 'parent');

  // Children, decided within the fullest sample of each parent (a cut-short ps block knows less).
  const byParent = new Map<number, MemorySample>();
  for (const sample of samples) {
    const parent = sample.processes.find((p) => parents.has(p.pid));
    const key = parent?.pid ?? -1;
    const best = byParent.get(key);
    // Ties go to the later sample: more CPU time accumulated tells the children apart better.
    if (!best || sample.processes.length >= best.processes.length) byParent.set(key, sample);
  }
  for (const sample of samples) {
    for (const p of sample.processes) {
      if (roles.has(p.pid)) continue;
      const named = roleFromCommand(p.command);
      if (named) roles.set(p.pid, named);
    }
  }
  for (const sample of byParent.values()) {
    const undecided = sample.processes.filter((p) => !roles.has(p.pid));
    if (undecided.length === 0) continue;
    const taken = new Set(sample.processes.map((p) => roles.get(p.pid)));
    const allCpu = undecided.every((p) => p.cpuSeconds !== undefined);
    if (allCpu && undecided.length >= 2 && !taken.has('vrrp')) {
      const sorted = [...undecided].sort((a, b) => (b.cpuSeconds ?? 0) - (a.cpuSeconds ?? 0));
      roles.set(sorted[0]!.pid, 'vrrp');
      const rest = sorted.slice(1);
      for (const p of rest) roles.set(p.pid, rest.length === 1 && !taken.has('checker') ? 'checker' : 'child');
    } else if (undecided.length === 2 && !taken.has('vrrp') && !taken.has('checker')) {
      const [low, high] = [...undecided].sort((a, b) => a.pid - b.pid);
      roles.set(low!.pid, 'checker');
      roles.set(high!.pid, 'vrrp');
    }
  }
  for (const sample of samples) {
    for (const p of sample.processes) if (!roles.has(p.pid)) roles.set(p.pid, 'child');
  }
  return roles;
}

/**
 * keepalived runs each track script in a short-lived fork of its VRRP (or checker) child; `ps` can
 * catch one before it execs the script, still named keepalived. Those are grandchildren of the main
 * process and not keepalived's own memory: counting them would add a copy of the child's RSS to a
 * random sample. Needs `ppid` (the sampler's ps format); lists without it are returned as they are.
 */
export function withoutScriptForks<P extends { pid: number; ppid?: number }>(processes: readonly P[]): P[] {
  const ppidOf = new Map(processes.map((p) => [p.pid, p.ppid]));
  return processes.filter((p) => {
    const parentsParent = p.ppid === undefined ? undefined : ppidOf.get(p.ppid);
    return parentsParent === undefined || !ppidOf.has(parentsParent);
  });
}

/**
 * CPU accounting from /proc, to tell "the bot is slow" from "the bot is waiting for a CPU": on one
 * machine the lab's sshd sessions, the bot, Redis and the bench share the same cores.
 */
import { readFile } from 'node:fs/promises';

/** Jiffies per second for /proc/stat (USER_HZ; 100 on every Linux the lab runs on). */
const USER_HZ = 100;

export interface MachineSample {
  busyMs: number;
  totalMs: number;
}

/** Whole-machine CPU time (all cores), busy = everything but idle and iowait. */
export async function machineCpu(): Promise<MachineSample> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const cols = line.trim().split(/\s+/).slice(1).map(Number);
  const total = cols.reduce((a, b) => a + b, 0);
  const idle = (cols[3] ?? 0) + (cols[4] ?? 0);
  return { busyMs: ((total - idle) * 1000) / USER_HZ, totalMs: (total * 1000) / USER_HZ };
}

/** Percentage of all cores busy between two samples. */
export function busyPercent(a: MachineSample, b: MachineSample): number {
  const total = b.totalMs - a.totalMs;
  return total > 0 ? (100 * (b.busyMs - a.busyMs)) / total : Number.NaN;
}

export interface ThreadSched {
  /** ms on a CPU. */
  runMs: number;
  /** ms runnable but waiting for a CPU (run queue). */
  waitMs: number;
}

/** A thread's scheduler stats (`/proc/<pid>/task/<tid>/schedstat`); the main thread by default. */
export async function threadSched(pid: number, tid = pid): Promise<ThreadSched> {
  const [run, wait] = (await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')).trim().split(/\s+/).map(Number);
  return { runMs: (run ?? Number.NaN) / 1e6, waitMs: (wait ?? Number.NaN) / 1e6 };
}

/** Runs `fn` and reports machine busy % and, for `pid`, its main thread's on-CPU and run-queue time. */
export async function measureCpu<T>(pid: number | undefined, fn: () => Promise<T>): Promise<{ value: T; busyPercent: number; thread?: ThreadSched }> {
  const m0 = await machineCpu();
  const t0 = pid === undefined ? undefined : await threadSched(pid);
  const value = await fn();
  const m1 = await machineCpu();
  const t1 = pid === undefined ? undefined : await threadSched(pid);
  return {
    value,
    busyPercent: busyPercent(m0, m1),
    ...(t0 && t1 ? { thread: { runMs: t1.runMs - t0.runMs, waitMs: t1.waitMs - t0.waitMs } } : {}),
  };
}

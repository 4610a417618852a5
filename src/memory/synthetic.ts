/**
 * Deterministic synthetic memory series for tests, benchmarks and the lab's demo: the notes' process
 * sizes, with page-cache growth, an optional leak in one process, restarts and missing hours.
 */
import type { MemorySample } from './sample.ts';

const HOUR = 3_600_000;
const KIB = 1024;
const MIB = 1024 * 1024;

/** Shape of a synthetic series; slots are `everyMs` apart from `start`. */
export interface SyntheticSeriesOptions {
  node: string;
  /** First sample (epoch ms). */
  start: number;
  /** Number of sampling slots. */
  count: number;
  /** Default 1 h. */
  everyMs?: number;
  /** Page cache growth of the unit (bytes/day); default 25 MiB/day, like the notes. */
  cacheGrowthPerDay?: number;
  /** RSS growth of the VRRP child (bytes/day); default 0. */
  leakPerDay?: number;
  /** Slot indexes at which keepalived restarts (new pids, new start time, cache and RSS reset). */
  restartAt?: readonly number[];
  /** Slot indexes with no sample (a host that could not be reached). */
  missing?: readonly number[];
  /** Include the cgroup anon/file split (default true). */
  cgroupSplit?: boolean;
  /** Include ps processes (default true). */
  processes?: boolean;
  seed?: number;
}

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const page = (bytes: number): number => Math.round(bytes / 4096) * 4096;

/** Builds the series; every size is a whole number of 4 KiB pages (as the kernel counts). */
export function generateMemorySeries(options: SyntheticSeriesOptions): MemorySample[] {
  const every = options.everyMs ?? HOUR;
  const rand = random(options.seed ?? 7);
  const restarts = new Set(options.restartAt ?? []);
  const missing = new Set(options.missing ?? []);
  const cacheGrowth = options.cacheGrowthPerDay ?? 25 * MIB;
  const leak = options.leakPerDay ?? 0;
  const samples: MemorySample[] = [];
  let base = 23145;
  let startedAt = options.start - 2 * HOUR;
  let runStart = options.start;
  for (let i = 0; i < options.count; i += 1) {
    const t = options.start + i * every;
    if (restarts.has(i)) {
      base += 311;
      startedAt = t - Math.round(every / 3);
      runStart = startedAt;
    }
    if (missing.has(i)) continue;
    const days = (t - runStart) / 86_400_000;
    const anon = page(2 * MIB + rand() * 256 * KIB);
    const file = page(100 * MIB + cacheGrowth * days + rand() * 4 * MIB);
    const sample: MemorySample = {
      t,
      node: options.node,
      unitMemory: anon + file + page(3 * MIB),
      processes: [],
      mainPid: base,
      startedAt: new Date(startedAt).toISOString(),
      active: true,
    };
    if (options.cgroupSplit ?? true) {
      sample.anon = anon + page(leak * days);
      sample.file = file;
      sample.unitMemory = sample.anon + file + page(3 * MIB);
    }
    if (options.processes ?? true) {
      const jitter = (): number => (rand() < 0.15 ? (rand() < 0.5 ? -4 : 4) * KIB : 0);
      sample.processes = [
        { pid: base, ppid: 1, rss: 1836 * KIB + jitter(), vsz: 123032 * KIB, cpuSeconds: Math.round(days * 40), command: '/usr/sbin/keepalived -D' },
        { pid: base + 1, ppid: base, rss: 7312 * KIB + jitter(), vsz: 125156 * KIB, cpuSeconds: Math.round(days * 35), command: '/usr/sbin/keepalived -D' },
        { pid: base + 2, ppid: base, rss: page(6088 * KIB + leak * days) + jitter(), vsz: 125156 * KIB, cpuSeconds: Math.round(days * 600), command: '/usr/sbin/keepalived -D' },
      ];
    }
    samples.push(sample);
  }
  return samples;
}

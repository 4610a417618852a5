/**
 * What the status watch (config `status: { every, channel }`, jobs/status-watch.ts) costs per interval:
 * each round's wall time from BullMQ's processedOn/finishedOn of the `status-watch` jobs on the reads
 * queue, and the worker's and bot's CPU (/proc/<pid>/stat utime + stime) from one round's end to the next.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { READ_QUEUE } from '../src/queue/job-queue.ts';
import { sleep } from './bot-process.ts';
import { queueIdle, type Deployment } from './deployment.ts';
import { summarise, type Summary } from './stats.ts';

export const WATCH_EVERY_MS = 10_000;
export const WATCH_CHANNEL = 'C0WATCH';

export interface WatchOptions {
  redisUrl: string;
  /** Intervals measured, after the first (cold) round and once nothing else runs. */
  intervals: number;
  checkInterrupted: () => void;
}

export interface WatchCost {
  /** The first round (cold pool, and the worker's start-up sample round beside it). */
  firstRoundMs: number;
  /** finishedOn - processedOn of the measured rounds. */
  round: Summary;
  /** Per interval (completion to completion), ms of CPU. */
  workerCpuMs: Summary;
  botCpuMs: Summary;
  intervalMs: Summary;
  posted: number;
  rounds: number;
}

/** Watch rounds as BullMQ recorded them, oldest first. */
interface WatchRound { id: string; processedOn: number; finishedOn: number; posted: boolean }

export async function measureWatch(o: WatchOptions, d: Deployment): Promise<WatchCost> {
  const worker = d.workers[0];
  if (!worker) throw new Error('the watch needs a worker');
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(READ_QUEUE, { connection, prefix: d.prefix });
  try {
    const deadline = Date.now() + 60_000 + (o.intervals + 3) * WATCH_EVERY_MS;
    const seen = new Set<string>();
    let first: WatchRound | undefined;
    // Boundaries: a snapshot of the CPU counters right after each round finished (the gap before the next is idle).
    const marks: Array<{ round: WatchRound; worker: number; bot: number }> = [];
    while (marks.length < o.intervals + 1) {
      if (Date.now() > deadline) throw new Error(`only ${marks.length} measured watch rounds by the deadline`);
      o.checkInterrupted();
      const rounds = await watchRounds(queue);
      const fresh = rounds.filter((r) => !seen.has(r.id));
      if (fresh.length === 0) {
        await sleep(100);
        continue;
      }
      const [workerCpu, botCpu] = await Promise.all([worker.cpuMs(), d.bot.cpuMs()]);
      for (const r of fresh) seen.add(r.id);
      const latest = fresh[fresh.length - 1]!;
      if (!first) {
        first = latest;
        continue;
      }
      // Start the window only once nothing else (the start-up memory sample) is left to run.
      if (marks.length === 0 && !(await queueIdle(queue))) continue;
      marks.push({ round: latest, worker: workerCpu, bot: botCpu });
    }
    const measured = marks.slice(1).map((m) => m.round);
    const deltas = (f: (m: (typeof marks)[number]) => number): number[] => marks.slice(1).map((m, i) => f(m) - f(marks[i]!));
    return {
      firstRoundMs: first ? first.finishedOn - first.processedOn : Number.NaN,
      round: summarise(measured.map((r) => r.finishedOn - r.processedOn)),
      workerCpuMs: summarise(deltas((m) => m.worker)),
      botCpuMs: summarise(deltas((m) => m.bot)),
      intervalMs: summarise(deltas((m) => m.round.finishedOn)),
      posted: measured.filter((r) => r.posted).length,
      rounds: measured.length,
    };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

async function watchRounds(queue: Queue): Promise<WatchRound[]> {
  const failed = (await queue.getJobs(['failed'], 0, 50)).filter((j) => j.name === 'status-watch');
  if (failed.length) throw new Error(`a status-watch round failed: ${failed[0]?.failedReason ?? '?'}`);
  const jobs = (await queue.getJobs(['completed'], 0, 100)).filter((j) => j.name === 'status-watch' && j.processedOn && j.finishedOn);
  return jobs
    .map((j) => ({ id: j.id ?? '', processedOn: j.processedOn ?? 0, finishedOn: j.finishedOn ?? 0, posted: (j.returnvalue as { posted?: boolean } | null)?.posted === true }))
    .sort((a, b) => a.finishedOn - b.finishedOn);
}

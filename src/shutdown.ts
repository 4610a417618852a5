/**
 * SIGTERM (SPEC §8, DESIGN habit 10): stop taking work, let running jobs finish, then close queues,
 * SSH and Redis — in that order, each step with a deadline, all inside `shutdownGrace`, Redis up or
 * down. Workers go first so no job reports to a queue that is already closed. A step over its deadline
 * is forced (workers and connections disconnected) and the next step starts: with Redis down a
 * graceful close would wait for Redis forever. A promote still running when the workers' share of the
 * grace is over is not lost: its change-queue lock expires, another worker picks the job up and the
 * journal continues from what was really done.
 */
import type { Logger } from './logger.ts';

export interface ShutdownParts {
  graceMs: number;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** The Slack receiver (HTTP or Socket Mode): stops taking commands. */
  app?: { stop(): Promise<unknown> };
  workers: ReadonlyArray<{ close(force?: boolean): Promise<void>; disconnect(): Promise<void> }>;
  queues: ReadonlyArray<{ close(): Promise<void> }>;
  memory?: { close(): Promise<void> };
  pool: { close(): Promise<void> };
  connections: ReadonlyArray<{ quit(): Promise<unknown>; disconnect(): void }>;
  now?: () => number;
}

export interface ShutdownStep {
  step: string;
  ms: number;
  outcome: 'done' | 'timed out' | 'failed';
}

/** Short steps after the workers get at most this long each. */
const STEP_BOUND_MS = 1_000;

/** Runs the steps in order; resolves within `graceMs` (plus timer slack) whatever hangs. */
export async function shutDown(parts: ShutdownParts): Promise<ShutdownStep[]> {
  const now = parts.now ?? Date.now;
  const started = now();
  const deadline = started + parts.graceMs;
  const left = (): number => Math.max(0, deadline - now());
  // What the steps after the workers need: a bit for each, never more than a third of the grace.
  const reserve = Math.min(4 * STEP_BOUND_MS, Math.floor(parts.graceMs / 3));
  const steps: ShutdownStep[] = [];

  const run = async (step: string, boundMs: number, work: () => Promise<unknown>, force?: () => Promise<unknown> | void): Promise<void> => {
    const t = now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed out'>((resolve) => {
      timer = setTimeout(() => resolve('timed out'), Math.max(0, boundMs));
    });
    const outcome = await Promise.race([work().then(() => 'done' as const, () => 'failed' as const), timedOut]);
    clearTimeout(timer);
    steps.push({ step, ms: now() - t, outcome });
    if (outcome === 'done') return;
    parts.logger.warn({ step, boundMs, outcome }, `shutdown: ${step} ${outcome}${force ? '; forced' : ''}`);
    if (force) await Promise.race([Promise.resolve(force()).catch(() => undefined), delay(Math.min(200, left()))]);
  };

  const app = parts.app;
  if (app) await run('stop taking commands', Math.min(STEP_BOUND_MS, left() - reserve), () => app.stop());
  await run(
    'let running jobs finish',
    left() - reserve,
    () => Promise.all(parts.workers.map((w) => w.close())),
    () => Promise.all(parts.workers.map((w) => w.disconnect())),
  );
  await run('close queues', Math.min(STEP_BOUND_MS, left() - reserve / 2), () => Promise.all(parts.queues.map((q) => q.close())));
  const memory = parts.memory;
  if (memory) await run('close the memory store', Math.min(STEP_BOUND_MS / 2, left() - reserve / 2), () => memory.close());
  await run('close SSH connections', Math.min(STEP_BOUND_MS, left() - reserve / 4), () => parts.pool.close());
  await run(
    'close Redis connections',
    Math.min(STEP_BOUND_MS / 2, left()),
    () => Promise.all(parts.connections.map((c) => c.quit())),
  );
  // Whatever quit did or did not do: nothing may keep reconnecting after this.
  for (const c of parts.connections) c.disconnect();
  parts.logger.info({ ms: now() - started, graceMs: parts.graceMs, steps }, 'shut down');
  return steps;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}

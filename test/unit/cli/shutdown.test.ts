import { describe, expect, it } from 'vitest';
import { shutDown } from '../../../src/shutdown.ts';
import { captureLogger } from '../../support/capture-logger.ts';

const never = (): Promise<never> => new Promise(() => undefined);

describe('shutDown', () => {
  it('with Redis down (every close hangs) it still ends within the grace, workers first, forced, connections disconnected', async () => {
    const order: string[] = [];
    const { logger } = captureLogger();
    const started = performance.now();
    const steps = await shutDown({
      graceMs: 1_500,
      logger,
      app: { stop: () => (order.push('app'), Promise.resolve()) },
      workers: [{ close: () => (order.push('worker close'), never()), disconnect: () => (order.push('worker disconnect'), Promise.resolve()) }],
      queues: [{ close: () => (order.push('queue close'), never()) }],
      memory: { close: () => (order.push('memory close'), never()) },
      pool: { close: () => (order.push('ssh close'), Promise.resolve()) },
      connections: [{ quit: () => (order.push('quit'), never()), disconnect: () => void order.push('disconnect') }],
    });
    const tookMs = performance.now() - started;
    expect(tookMs).toBeLessThan(1_500 + 300);
    expect(order).toEqual(['app', 'worker close', 'worker disconnect', 'queue close', 'memory close', 'ssh close', 'quit', 'disconnect']);
    expect(steps.map((s) => [s.step, s.outcome])).toEqual([
      ['stop taking commands', 'done'],
      ['let running jobs finish', 'timed out'],
      ['close queues', 'timed out'],
      ['close the memory store', 'timed out'],
      ['close SSH connections', 'done'],
      ['close Redis connections', 'timed out'],
    ]);
    // Running jobs got the largest share of the grace.
    expect(steps[1]!.ms).toBeGreaterThanOrEqual(900);
  });

  it('a running job that finishes inside the grace is waited for', async () => {
    const { logger } = captureLogger();
    let finished = false;
    const steps = await shutDown({
      graceMs: 5_000,
      logger,
      workers: [{ close: () => new Promise<void>((r) => setTimeout(() => ((finished = true), r()), 300)), disconnect: () => Promise.resolve() }],
      queues: [],
      pool: { close: () => Promise.resolve() },
      connections: [],
    });
    expect(finished).toBe(true);
    expect(steps.every((s) => s.outcome === 'done')).toBe(true);
  });
});

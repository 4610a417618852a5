import { describe, expect, it } from 'vitest';
import { VipbotError } from '../../../src/errors.ts';
import { mapWithConcurrency } from '../../../src/hosts/fan-out.ts';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapWithConcurrency', () => {
  it('never has more than `limit` in flight and keeps input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const items = [30, 5, 20, 1, 15, 8, 2, 12, 3, 9];
    const results = await mapWithConcurrency(items, 3, async (ms, index) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await tick(ms);
      inFlight--;
      return `${index}:${ms}`;
    });
    expect(peak).toBe(3);
    expect(results).toEqual(items.map((ms, i) => ({ ok: true, value: `${i}:${ms}` })));
  });

  it('settles every item: one failure does not hide the others', async () => {
    const boom = new Error('node2 unreachable');
    const results = await mapWithConcurrency(['node1', 'node2', 'node3'], 2, async (name) => {
      if (name === 'node2') throw boom;
      return name.toUpperCase();
    });
    expect(results).toEqual([{ ok: true, value: 'NODE1' }, { ok: false, error: boom }, { ok: true, value: 'NODE3' }]);
  });

  it('starts the next item as soon as a slot frees', async () => {
    const started: number[] = [];
    const releases: Array<() => void> = [];
    const run = mapWithConcurrency([0, 1, 2, 3], 2, (i) => {
      started.push(i);
      return new Promise<number>((resolve) => releases[i] = () => resolve(i));
    });
    await tick();
    expect(started).toEqual([0, 1]);
    releases[1]!();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    releases[0]!();
    releases[2]!();
    await tick();
    releases[3]!();
    expect(await run).toEqual([0, 1, 2, 3].map((value) => ({ ok: true, value })));
  });

  it('a limit above the item count runs them all at once', async () => {
    let peak = 0;
    let inFlight = 0;
    await mapWithConcurrency([1, 2, 3], 10, async () => {
      peak = Math.max(peak, ++inFlight);
      await tick(5);
      inFlight--;
    });
    expect(peak).toBe(3);
  });

  it('handles no items', async () => {
    expect(await mapWithConcurrency([], 4, async () => 1)).toEqual([]);
  });

  it('refuses a nonsense limit', async () => {
    await expect(mapWithConcurrency([1], 0, async () => 1)).rejects.toThrow(RangeError);
    await expect(mapWithConcurrency([1], 1.5, async () => 1)).rejects.toThrow(RangeError);
  });

  it('after an abort, items not yet started settle as aborted; started ones see the signal', async () => {
    const controller = new AbortController();
    const seen: Array<AbortSignal | undefined> = [];
    const results = await mapWithConcurrency([0, 1, 2, 3], 2, async (i, _index, signal) => {
      seen.push(signal);
      await tick(5);
      if (i === 0) controller.abort();
      return i;
    }, controller.signal);
    expect(results.slice(0, 2)).toEqual([{ ok: true, value: 0 }, { ok: true, value: 1 }]);
    for (const r of results.slice(2)) {
      expect(r.ok).toBe(false);
      expect(!r.ok && (r.error as VipbotError).code).toBe('fan_out_aborted');
    }
    expect(seen).toEqual([controller.signal, controller.signal]);
  });

  it('passes a VipbotError abort reason through', async () => {
    const controller = new AbortController();
    const reason = new VipbotError('job_cancelled', 'cancelled');
    controller.abort(reason);
    expect(await mapWithConcurrency([1], 1, async () => 1, controller.signal)).toEqual([{ ok: false, error: reason }]);
  });

  it('lets every item in flight listen on the shared signal without a listener-leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      // 8 nodes at once, 5 commands each with 2 listeners: 80 on one signal, all removed when done.
      const results = await mapWithConcurrency([...Array(20).keys()], 8, async (_item, _i, signal) => {
        const listeners = Array.from({ length: 10 }, () => () => undefined);
        for (const l of listeners) signal?.addEventListener('abort', l, { once: true });
        await tick(1);
        for (const l of listeners) signal?.removeEventListener('abort', l);
        return true;
      }, controller.signal);
      expect(results.every((r) => r.ok)).toBe(true);
      await tick(5);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { freshSingleFlight } from '../../../src/status/fresh-single-flight.ts';

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('freshSingleFlight', () => {
  it('callers during a run share one next run that starts after them', async () => {
    const gates = [gate(), gate(), gate()];
    let runs = 0;
    const get = freshSingleFlight(async () => {
      const n = runs++;
      await gates[n]!.promise;
      return n;
    });
    const first = get('orcl');
    const during = Array.from({ length: 50 }, () => get('orcl'));
    expect(runs).toBe(1);
    gates[0]!.open();
    expect(await first).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(2);
    gates[1]!.open();
    expect(new Set(await Promise.all(during))).toEqual(new Set([1]));
    // After everything settled, a new caller gets a new run.
    const later = get('orcl');
    gates[2]!.open();
    expect(await later).toBe(2);
  });

  it('keys do not share', async () => {
    let runs = 0;
    const get = freshSingleFlight(async (key) => `${key}:${runs++}`);
    expect(await Promise.all([get('a'), get('b')])).toEqual(['a:0', 'b:1']);
  });

  it('a failed run does not poison the next', async () => {
    let runs = 0;
    const get = freshSingleFlight(async () => {
      runs++;
      if (runs === 1) throw new Error('host down');
      return runs;
    });
    const first = get('k');
    const second = get('k');
    await expect(first).rejects.toThrow('host down');
    expect(await second).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { findGaps, fitLinearTrend, mergeGaps } from '../../../src/memory/trend.ts';

const H = 3_600_000;
const D = 24 * H;

describe('fitLinearTrend', () => {
  it.each([
    { name: 'a steady climb', points: [0, 1, 2, 3].map((i) => ({ t: i * D, value: 100 + 50 * i })), expected: { perDay: 50, r2: 1, n: 4, spanMs: 3 * D } },
    { name: 'flat', points: [0, 1, 2].map((i) => ({ t: i * H, value: 7 })), expected: { perDay: 0, r2: 0, n: 3, spanMs: 2 * H } },
    { name: 'hourly points, per day', points: [0, 1].map((i) => ({ t: i * H, value: i * 1024 })), expected: { perDay: 24 * 1024, r2: 1, n: 2, spanMs: H } },
  ])('$name', ({ points, expected }) => {
    const trend = fitLinearTrend(points)!;
    expect({ ...trend, perDay: Number(trend.perDay.toFixed(6)), r2: Number(trend.r2.toFixed(6)) }).toEqual(expected);
  });

  it('needs two distinct times', () => {
    expect(fitLinearTrend([{ t: 0, value: 1 }])).toBeUndefined();
    expect(fitLinearTrend([{ t: 5, value: 1 }, { t: 5, value: 2 }])).toBeUndefined();
  });
});

describe('findGaps', () => {
  it.each([
    { name: 'regular hourly', times: [0, 1, 2, 3, 4].map((i) => i * H), expected: [] },
    { name: 'one missed hour', times: [0, 1, 3, 4, 5].map((i) => i * H), expected: [{ from: H, to: 3 * H, missed: 1 }] },
    { name: 'six missed hours', times: [0, 1, 2, 9, 10, 11].map((i) => i * H), expected: [{ from: 2 * H, to: 9 * H, missed: 6 }] },
    { name: 'jitter under 1.5x is not a gap', times: [0, 1, 2.4, 3.4, 4.4].map((i) => i * H), expected: [] },
    { name: 'too few times to judge', times: [0, 5 * H], expected: [] },
  ])('$name', ({ times, expected }) => {
    expect(findGaps(times, 1.5)).toEqual(expected);
  });

  it('merges overlapping gaps from two streams', () => {
    expect(mergeGaps([[{ from: 0, to: 10, missed: 2 }], [{ from: 5, to: 20, missed: 3 }, { from: 30, to: 40, missed: 1 }]])).toEqual([
      { from: 0, to: 20, missed: 3 },
      { from: 30, to: 40, missed: 1 },
    ]);
  });
});

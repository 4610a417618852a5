import { describe, expect, it } from 'vitest';
import { parseSmapsRollup } from '../../../src/memory/parse-smaps-rollup.ts';
import { KIB, readMemoryFixture } from './fixtures.ts';

describe('parseSmapsRollup', () => {
  it.each([
    {
      name: 'kernel 6.x (keepalived VRRP child)',
      text: readMemoryFixture('smaps_rollup-vrrp-child.txt'),
      expected: { rss: 3400 * KIB, pss: 981 * KIB, pssAnon: 818 * KIB, pssFile: 163 * KIB, pssShmem: 0, anonymous: 1480 * KIB, swap: 0 },
    },
    {
      name: 'kernel 4.x, before the Pss_Anon split',
      text: [
        '55d1c5a8e000-7ffd5a1f1000 ---p 00000000 00:00 0                          [rollup]',
        'Rss:                7312 kB',
        'Pss:                3107 kB',
        'Shared_Clean:       3976 kB',
        'Anonymous:          1620 kB',
        'Swap:                  0 kB',
      ].join('\n'),
      expected: { rss: 7312 * KIB, pss: 3107 * KIB, anonymous: 1620 * KIB, swap: 0 },
    },
  ])('$name', ({ text, expected }) => {
    expect(parseSmapsRollup(text)).toEqual(expected);
  });

  it('refuses text without Rss and Pss', () => {
    expect(() => parseSmapsRollup('cat: /proc/23147/smaps_rollup: Permission denied')).toThrow(
      expect.objectContaining({ code: 'smaps_rollup_unrecognised' }),
    );
  });
});

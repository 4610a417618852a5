import { describe, expect, it } from 'vitest';
import {
  parseCgroupMemoryCurrent,
  parseMemoryStat,
  parseMemoryStatV1,
  parseMemoryStatV2,
  parseSystemdMemoryCurrent,
} from '../../../src/memory/parse-cgroup-memory.ts';
import { readMemoryFixture } from './fixtures.ts';

describe('memory.stat', () => {
  it.each([
    {
      name: 'cgroup v1 with hierarchical total_* keys (preferred)',
      parse: parseMemoryStatV1,
      text: readMemoryFixture('cgroup-v1-memory.stat'),
      expected: { anon: 327053312, file: 459751424, shmem: 71278592, mappedFile: 188260352 },
    },
    {
      name: 'cgroup v1 without total_* keys',
      parse: parseMemoryStatV1,
      text: 'cache 493965312\nrss 3313664\nrss_huge 0\nshmem 0\nmapped_file 9879552\ndirty 0\n',
      expected: { anon: 3313664, file: 493965312, shmem: 0, mappedFile: 9879552 },
    },
    {
      name: 'cgroup v2',
      parse: parseMemoryStatV2,
      text: readMemoryFixture('cgroup-v2-keepalived.service-memory.stat'),
      expected: { anon: 3313664, file: 493965312, shmem: 0, mappedFile: 9879552, slab: 4221832, sock: 4096 },
    },
    {
      name: 'auto-detects v1',
      parse: parseMemoryStat,
      text: readMemoryFixture('cgroup-v1-memory.stat'),
      expected: { anon: 327053312, file: 459751424, shmem: 71278592, mappedFile: 188260352 },
    },
    {
      name: 'auto-detects v2',
      parse: parseMemoryStat,
      text: 'anon 8192\nfile 4096\n',
      expected: { anon: 8192, file: 4096 },
    },
  ])('$name', ({ parse, text, expected }) => {
    expect(parse(text)).toEqual(expected);
  });

  it.each([
    { parse: parseMemoryStatV2, text: readMemoryFixture('cgroup-v1-memory.stat') },
    { parse: parseMemoryStatV1, text: 'anon 1\nfile 2\n' },
    { parse: parseMemoryStat, text: 'Rss: 12 kB\n' },
  ])('refuses text of the wrong kind with a coded error', ({ parse, text }) => {
    expect(() => parse(text)).toThrow(expect.objectContaining({ code: 'memory_stat_unrecognised' }));
  });
});

describe('single-number cgroup files and systemd MemoryCurrent', () => {
  it('reads memory.usage_in_bytes / memory.current', () => {
    expect(parseCgroupMemoryCurrent(readMemoryFixture('cgroup-v1-memory.usage_in_bytes'))).toBe(786804736);
    expect(parseCgroupMemoryCurrent('126455808\n')).toBe(126455808);
  });

  it('refuses anything but one number', () => {
    expect(() => parseCgroupMemoryCurrent('max\n')).toThrow(expect.objectContaining({ code: 'memory_current_unrecognised' }));
  });

  it.each([
    ['126455808', 126455808],
    ['[not set]', undefined],
    ['18446744073709551615', undefined],
    ['', undefined],
  ])('MemoryCurrent=%s', (value, expected) => {
    expect(parseSystemdMemoryCurrent(value)).toBe(expected);
  });
});

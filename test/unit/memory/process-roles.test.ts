import { describe, expect, it } from 'vitest';
import { inferProcessRoles, withoutScriptForks } from '../../../src/memory/process-roles.ts';
import type { MemoryProcess, MemorySample } from '../../../src/memory/sample.ts';

const sample = (processes: MemoryProcess[], extra: Partial<MemorySample> = {}): MemorySample => ({ t: 0, node: 'n', processes, ...extra });
const p = (pid: number, extra: Partial<MemoryProcess> = {}): MemoryProcess => ({ pid, rss: 1, vsz: 1, ...extra });

describe('inferProcessRoles', () => {
  it.each([
    {
      name: "ps aux (the notes): session leader is the parent, the busy child is VRRP",
      samples: [sample([p(23145, { stat: 'Ss', cpuSeconds: 14 }), p(23146, { stat: 'S', cpuSeconds: 12 }), p(23147, { stat: 'S', cpuSeconds: 124 })])],
      expected: { 23145: 'parent', 23146: 'checker', 23147: 'vrrp' },
    },
    {
      name: 'headerless ps with ppid and no CPU time: checker is forked first (lower pid)',
      samples: [sample([p(812, { ppid: 1 }), p(813, { ppid: 812 }), p(815, { ppid: 812 })])],
      expected: { 812: 'parent', 813: 'checker', 815: 'vrrp' },
    },
    {
      name: "systemd's MainPID wins over everything",
      samples: [sample([p(900, { ppid: 1 }), p(901, { ppid: 900 })], { mainPid: 901 })],
      expected: { 901: 'parent', 900: 'child' },
    },
    {
      name: 'process_names from keepalived.conf',
      samples: [sample([p(10, { ppid: 1, command: 'keepalived -D' }), p(11, { ppid: 10, command: 'keepalived_bfd' }), p(12, { ppid: 10, command: 'keepalived_vrrp -D' }), p(13, { ppid: 10, command: 'keepalived_ipvs' })])],
      expected: { 10: 'parent', 11: 'bfd', 12: 'vrrp', 13: 'checker' },
    },
    {
      name: 'a lone child (no virtual_server, so no checker) stays a plain child',
      samples: [sample([p(32746, { ppid: 1 }), p(32752, { ppid: 32746 })])],
      expected: { 32746: 'parent', 32752: 'child' },
    },
    {
      name: 'a cut-short block learns from the fuller sample',
      samples: [sample([p(23145, { stat: 'Ss' })]), sample([p(23145, { stat: 'Ss', cpuSeconds: 20 }), p(23146, { stat: 'S', cpuSeconds: 18 }), p(23147, { stat: 'S', cpuSeconds: 183 })], { t: 1 })],
      expected: { 23145: 'parent', 23146: 'checker', 23147: 'vrrp' },
    },
  ])('$name', ({ samples, expected }) => {
    expect(Object.fromEntries(inferProcessRoles(samples))).toEqual(expected);
  });
});

describe('withoutScriptForks', () => {
  it('drops a track-script fork caught by ps (a grandchild of the main process), keeps main and its children', () => {
    const listed = [p(812, { ppid: 1 }), p(813, { ppid: 812 }), p(815, { ppid: 812 }), p(9301, { ppid: 815 })];
    expect(withoutScriptForks(listed).map((x) => x.pid)).toEqual([812, 813, 815]);
  });

  it('keeps everything when ps gave no ppid (ps aux logs) or the tree is flat', () => {
    expect(withoutScriptForks([p(1), p(2), p(3)]).map((x) => x.pid)).toEqual([1, 2, 3]);
    expect(withoutScriptForks([p(50, { ppid: 1 }), p(51, { ppid: 50 })]).map((x) => x.pid)).toEqual([50, 51]);
  });
});


import { describe, expect, it } from 'vitest';
import type { StatusWarning, VipStatus } from '../../../src/model.ts';
import { renderWatchMessage } from '../../../src/slack/render-watch.ts';
import { createWatchStore } from '../../../src/status/watch-store.ts';
import { compareWarnings, warningGauge, watchedWarnings, type WatchState } from '../../../src/status/watch.ts';

function status(warnings: ReadonlyArray<{ code: StatusWarning['code']; nodes: readonly string[] }>, cluster = 'orcl'): VipStatus {
  return {
    clusters: [{ name: cluster, vips: [{ name: 'primary', instance: 'VI_PRIMARY', address: '198.51.100.100', holders: ['node1', 'node2'] }], nodes: [], warnings: warnings.map((w) => ({ code: w.code, nodes: [...w.nodes], message: `${w.code} <!channel>` })) }],
    collectedAt: '2026-12-01T22:00:00.000Z',
  };
}
const state = (s: VipStatus): WatchState => ({ warnings: watchedWarnings(s), at: 'then' });
const split = { code: 'split_brain' as const, nodes: ['node2', 'node1'] };
const down = { code: 'keepalived_down' as const, nodes: ['node2'] };

describe('status watch: what changed', () => {
  it.each([
    ['first round, no warnings: silent', undefined, [], undefined],
    ['first round with a split brain: new', undefined, [split], { added: ['split_brain'], cleared: [], allClear: false }],
    ['the same warnings again (nodes in another order): silent', [split], [{ ...split, nodes: ['node1', 'node2'] }], undefined],
    ['one more warning: only it is new', [split], [split, down], { added: ['keepalived_down'], cleared: [], allClear: false }],
    ['the same code on other nodes: a change', [down], [{ ...down, nodes: ['node1'] }], { added: ['keepalived_down'], cleared: ['keepalived_down'], allClear: false }],
    ['all gone: all clear', [split, down], [], { added: [], cleared: ['keepalived_down', 'split_brain'], allClear: true }],
  ] as const)('%s', (_what, before, after, expected) => {
    const previous = before ? state(status([...before])) : undefined;
    const change = compareWarnings(previous, watchedWarnings(status([...after])));
    expect(change && { added: change.added.map((w) => w.code), cleared: change.cleared.map((w) => w.code), allClear: change.allClear }).toEqual(expected);
  });

  it('vipbot_warnings: one series per cluster and code present', () => {
    const s = status([split, down, { code: 'keepalived_down', nodes: ['node1'] }]);
    expect(warningGauge(state(s))).toEqual([
      { cluster: 'orcl', code: 'keepalived_down', value: 1 },
      { cluster: 'orcl', code: 'split_brain', value: 1 },
    ]);
    expect(warningGauge(undefined)).toEqual([]);
  });

  it('the post says what is new first, escapes host text, and says all clear', () => {
    const s = status([split]);
    const message = renderWatchMessage(s, compareWarnings(undefined, watchedWarnings(s))!);
    const text = JSON.stringify(message.blocks);
    expect(message.text.split('\n')[0]).toBe('VIP watch: split_brain (orcl)');
    expect(text).toContain('*New:* `split_brain` in *orcl* (node1, node2)');
    expect(text).not.toContain('<!channel>');
    const clear = renderWatchMessage(status([]), compareWarnings(state(s), [])!);
    expect(clear.text.split('\n')[0]).toBe('VIP watch: all clear');
    expect(JSON.stringify(clear.blocks)).toContain('*All clear*');
  });

  it('the store keeps the last state and treats a damaged value as none', async () => {
    const kv = new Map<string, string>();
    const redis = { get: (k: string) => Promise.resolve(kv.get(k) ?? null), set: (k: string, v: string) => Promise.resolve(kv.set(k, v)) };
    const store = createWatchStore(redis, 'vipbot');
    expect(await store.load()).toBeUndefined();
    await store.save(state(status([split])));
    expect(await store.load()).toEqual(state(status([split])));
    kv.set('vipbot:status-watch:last', '{"warnings": 3');
    expect(await store.load()).toBeUndefined();
  });
});

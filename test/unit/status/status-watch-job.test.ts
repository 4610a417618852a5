/** The status-watch job with fakes: posts on a change only, with trigger "watch", and keeps its state. */
import { describe, expect, it } from 'vitest';
import { statusWatchJob } from '../../../jobs/status-watch.ts';
import { parseConfigText } from '../../../src/config/config.ts';
import type { JobContext, JobDeps } from '../../../src/jobs/job.ts';
import { silentLogger } from '../../../src/logger.ts';
import type { StatusWarning, VipStatus } from '../../../src/model.ts';
import type { OutgoingMessage } from '../../../src/slack/notifier.ts';
import { createWatchStore } from '../../../src/status/watch-store.ts';

const CONFIG = parseConfigText(`
status: { every: 1m, channel: C0WATCH }
clusters:
  - name: orcl
    vips: [{ name: primary, instance: VI_PRIMARY, address: 198.51.100.100 }]
    nodes: [{ name: node1, host: 198.51.100.1 }, { name: node2, host: 198.51.100.2 }]
`);

function statusWith(warnings: Array<Pick<StatusWarning, 'code' | 'nodes'>>): VipStatus {
  return {
    clusters: [{ name: 'orcl', vips: [{ name: 'primary', instance: 'VI_PRIMARY', address: '198.51.100.100', holders: warnings.length ? ['node1', 'node2'] : ['node1'] }], nodes: [], warnings: warnings.map((w) => ({ ...w, message: w.code })) }],
    collectedAt: '2026-12-01T23:00:00.000Z',
  };
}

function harness() {
  let current = statusWith([]);
  const posts: OutgoingMessage[] = [];
  const kv = new Map<string, string>();
  let failPost = false;
  const deps = {
    config: CONFIG,
    logger: silentLogger(),
    status: { collect: () => Promise.resolve(current), collectFacts: () => Promise.resolve([]) },
    notifier: { post: (m: OutgoingMessage) => (failPost ? Promise.reject(new Error('slack down')) : (posts.push(m), Promise.resolve({ channel: m.channel, ts: '1.1' }))) },
    watch: createWatchStore({ get: (k) => Promise.resolve(kv.get(k) ?? null), set: (k, v) => Promise.resolve(kv.set(k, v)) }, 'vipbot'),
  } as unknown as JobDeps;
  const ctx = { jobId: 'w1', attempt: 1, signal: new AbortController().signal, log: silentLogger() } as JobContext;
  return {
    posts,
    set: (w: Array<Pick<StatusWarning, 'code' | 'nodes'>>) => (current = statusWith(w)),
    failPosts: (fail: boolean) => (failPost = fail),
    round: () => statusWatchJob.process({}, deps, ctx),
  };
}

const split = [{ code: 'split_brain' as const, nodes: ['node1', 'node2'] }];

describe('status-watch job', () => {
  it('quiet while nothing changes, one post when a split brain starts, none while it lasts, an all-clear when it ends', async () => {
    const h = harness();
    await h.round();
    await h.round();
    expect(h.posts).toEqual([]);
    h.set(split);
    await h.round();
    await h.round();
    await h.round();
    expect(h.posts).toHaveLength(1);
    expect(h.posts[0]!.channel).toBe('C0WATCH');
    expect(h.posts[0]!.metadata).toEqual({ event_type: 'vip_status', event_payload: { ...statusWith(split), trigger: 'watch' } });
    h.set([]);
    await h.round();
    expect(h.posts).toHaveLength(2);
    expect(h.posts[1]!.text.split('\n')[0]).toBe('VIP watch: all clear');
  });

  it('a post that fails is tried again next round (the state is kept only after a post went out)', async () => {
    const h = harness();
    await h.round();
    h.set(split);
    h.failPosts(true);
    await expect(h.round()).rejects.toThrow('slack down');
    h.failPosts(false);
    await h.round();
    expect(h.posts).toHaveLength(1);
  });
});

/** The request store against real Redis: state changes are compare-and-set across concurrent callers. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RequestStore } from '../../src/approvals/request-store.ts';
import type { ChangeRequest } from '../../src/approvals/types.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { deleteKeys } from '../support/bot-harness.ts';

const redisUrl = inject('redisUrl');
const prefix = `vipbot-test-${randomBytes(4).toString('hex')}`;
let redis: Redis;
let store: RequestStore;

function request(id: string): ChangeRequest {
  return {
    id, action: 'promote', cluster: 'orcl', node: 'node2', vip: 'primary', force: false, state: 'pending', requestedBy: 'U0OPER1', channel: 'C0VIPOPS',
    createdAt: 1, expiresAt: 2,
    plan: { action: 'promote', cluster: 'orcl', node: 'node2', commands: [], before: { primary: [] }, expected: { primary: ['node2'] }, checks: [], service: 'keepalived', convergeTimeoutMs: 1000 },
  };
}

beforeAll(() => {
  redis = new Redis(redisUrl);
  store = new RequestStore(redis, prefix);
});
afterAll(async () => {
  redis.disconnect();
  await deleteKeys(redisUrl, `${prefix}:*`);
});

describe('RequestStore', () => {
  it('round-trips a request, including empty arrays in the plan', async () => {
    const r = request('aaaaa2');
    expect(await store.create(r)).toBe(true);
    expect(await store.create(r)).toBe(false);
    expect(await store.get('aaaaa2')).toEqual(r);
  });

  it('of 20 concurrent approvals exactly one moves the request out of pending', async () => {
    await store.create(request('bbbbb2'));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.transition('bbbbb2', ['pending'], 'approved', { approvedBy: `U0LEAD${i}` })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const winner = results.find((r) => r.ok)!;
    const stored = await store.get('bbbbb2');
    expect(stored?.state).toBe('approved');
    expect(stored?.approvedBy).toBe(winner.ok ? winner.request.approvedBy : undefined);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'wrong_state')).toBe(true);
  });

  it('an event id is claimed once', async () => {
    const claims = await Promise.all(Array.from({ length: 5 }, () => store.claimEvent('Ev0SAME')));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('finds a request by its approval message', async () => {
    await store.create(request('ccccc2'));
    await store.attachMessage('ccccc2', 'C0VIPOPS', '1700000000.000100');
    expect(await store.findByMessage('C0VIPOPS', '1700000000.000100')).toBe('ccccc2');
    expect((await store.get('ccccc2'))?.messageTs).toBe('1700000000.000100');
  });

  it('a cluster lock has one owner; the owner may take it again (resume), others may not', async () => {
    expect(await store.lockCluster('orcl', 'req1', 5_000)).toBe(true);
    expect(await store.lockCluster('orcl', 'req2', 5_000)).toBe(false);
    expect(await store.lockCluster('orcl', 'req1', 5_000)).toBe(true);
    await store.unlockCluster('orcl', 'req2');
    expect(await store.lockHolder('orcl')).toBe('req1');
    await store.unlockCluster('orcl', 'req1');
    expect(await store.lockCluster('orcl', 'req2', 5_000)).toBe(true);
  });

  it('the journal keeps finished steps', async () => {
    const journal = store.journal('ddddd2');
    await journal.record('backup', '/etc/keepalived/keepalived.conf.vipbot-20261126T193000Z');
    await journal.record('installed');
    expect(Object.keys(await journal.load()).sort()).toEqual(['backup', 'installed']);
  });
});

describe('AuditLog', () => {
  it('keeps entries newest first and groups the last requests', async () => {
    const audit = new AuditLog(redis, prefix);
    const base = { action: 'promote' as const, cluster: 'orcl', node: 'node2', requestedBy: 'U0OPER1' };
    await audit.append({ ...base, event: 'requested', requestId: 'r1', state: 'pending', at: 1 });
    await audit.append({ ...base, event: 'requested', requestId: 'r2', state: 'pending', at: 2 });
    await audit.append({ ...base, event: 'finished', requestId: 'r1', state: 'succeeded', approvedBy: 'U0LEAD1', at: 3, detail: { commands: [{ id: 'service-reload', exitCode: 0 }] } });
    expect((await audit.lastRequests(10)).map((e) => [e.requestId, e.state])).toEqual([['r1', 'succeeded'], ['r2', 'pending']]);
    expect((await audit.forRequest('r1')).map((e) => e.event)).toEqual(['requested', 'finished']);
  });
});

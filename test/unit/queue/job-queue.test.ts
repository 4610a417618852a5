import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { JobsOptions } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { VipbotError } from '../../../src/errors.ts';
import { addOrRefuse, ENQUEUE_TOKEN_FIELD, refusedEnqueueKey, type FailFastRedis, type QueueAdd } from '../../../src/queue/job-queue.ts';

/** A queue whose add answers as told, and records what it was asked. */
class FakeQueue implements QueueAdd {
  readonly adds: Array<{ name: string; data: Record<string, unknown>; opts?: JobsOptions }> = [];
  constructor(private readonly answer: 'never' | 'ok' | Error) {}
  add(name: string, data: unknown, opts?: JobsOptions): Promise<{ id?: string }> {
    this.adds.push({ name, data: data as Record<string, unknown>, ...(opts ? { opts } : {}) });
    if (this.answer === 'never') return new Promise(() => undefined);
    if (this.answer instanceof Error) return Promise.reject(this.answer);
    return Promise.resolve({ id: '42' });
  }
}

class FakeRedis implements FailFastRedis {
  readonly sets: Array<[string, string, string, number]> = [];
  replicas = 1;
  constructor(public status: string) {}
  wait(): Promise<number> {
    return Promise.resolve(this.replicas);
  }
  set(key: string, value: string, px: 'PX', ms: number): Promise<unknown> {
    this.sets.push([key, value, px, ms]);
    return Promise.resolve('OK');
  }
}

const ECHO_SERVER = `const s = require('node:net').createServer((c) => c.on('data', () => c.write('+OK\\r\\n')));
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`;

const REFUSAL = 'queue unavailable — Redis at 127.0.0.1:6390 is not answering, so nothing was queued — try again when Redis is back (operators: check that Redis is running and reachable)';

async function refusalOf(p: Promise<unknown>): Promise<{ code: string; text: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof VipbotError) return { code: err.code, text: err.toUserText() };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('addOrRefuse (command-side enqueue)', () => {
  it('a stalled Redis (add sent, never answered) becomes a coded refusal within the bound, and the add is tombstoned', async () => {
    const queue = new FakeQueue('never');
    const redis = new FakeRedis('ready');
    const started = performance.now();
    const refusal = await refusalOf(addOrRefuse(queue, 'vb', { redis, address: '127.0.0.1:6390', timeoutMs: 100 }, 'status', { target: { kind: 'all' } }, {}));
    const tookMs = performance.now() - started;
    expect(refusal).toEqual({ code: 'queue_unavailable', text: REFUSAL });
    expect(tookMs).toBeLessThan(1_000);
    const token = queue.adds[0]!.data[ENQUEUE_TOKEN_FIELD];
    expect(typeof token).toBe('string');
    // Held back (delayed) until confirmed: the tombstone lands before any worker may start it.
    expect(queue.adds).toEqual([{ name: 'status', data: { target: { kind: 'all' }, [ENQUEUE_TOKEN_FIELD]: token }, opts: { delay: 2_000 } }]);
    expect(redis.sets).toEqual([[refusedEnqueueKey('vb', String(token)), '1', 'PX', 7 * 86_400_000]]);
  });

  it('with Sentinel (minReplicas), an add no replica confirms is refused as a failover and tombstoned', async () => {
    const queue = new FakeQueue('ok');
    const redis = new FakeRedis('ready');
    redis.replicas = 0;
    const failFast = { redis, address: 'master vipbot via sentinels 127.0.0.1:26379', minReplicas: 1 };
    const refusal = await refusalOf(addOrRefuse(queue, 'vb', failFast, 'status', {}, {}));
    expect(refusal.text).toMatch(/^queue unavailable — Redis at master vipbot via sentinels 127\.0\.0\.1:26379 is failing over \(the add reached no replica\), so nothing was queued — /);
    expect(redis.sets.map(([key]) => key)).toEqual([refusedEnqueueKey('vb', String(queue.adds[0]!.data[ENQUEUE_TOKEN_FIELD]))]);
    // Held back (delayed) until a replica has it, past a failover's reconfiguration.
    expect(queue.adds[0]!.opts).toEqual({ delay: 10_000 });
    redis.replicas = 1;
    let promoted = 0;
    const confirming: QueueAdd = { add: (name, data, opts) => queue.add(name, data, opts).then((job) => ({ ...job, promote: async () => void (promoted += 1) })) };
    expect(await addOrRefuse(confirming, 'vb', failFast, 'status', {}, {})).toEqual({ id: '42' });
    expect(promoted).toBe(1);
  });

  it('with Sentinel, a tombstone no replica confirms is written again until one does', async () => {
    const queue = new FakeQueue('ok');
    const redis = new FakeRedis('ready');
    redis.replicas = 0;
    const refusal = await refusalOf(addOrRefuse(queue, 'vb', { redis, address: 'sentinel', minReplicas: 1 }, 'status', {}, {}));
    expect(refusal.code).toBe('queue_unavailable');
    await new Promise((r) => setTimeout(r, 250));
    redis.replicas = 1;
    await new Promise((r) => setTimeout(r, 250));
    const writes = redis.sets.length;
    expect(writes).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 250));
    expect(redis.sets.length).toBe(writes);
  });

  it('a job delayed anyway (a request expiry) keeps its delay and is not released early', async () => {
    const queue = new FakeQueue('ok');
    let promoted = 0;
    const q: QueueAdd = { add: (name, data, opts) => queue.add(name, data, opts).then((job) => ({ ...job, promote: async () => void (promoted += 1) })) };
    await addOrRefuse(q, 'vb', { redis: new FakeRedis('ready'), address: '127.0.0.1:6390' }, 'expire-request', { requestId: 'abc' }, { jobId: 'expire-abc', delay: 900_000 });
    expect(queue.adds[0]!.opts).toEqual({ jobId: 'expire-abc', delay: 900_000 });
    expect(promoted).toBe(0);
  });

  it('a connection that is not ready refuses at once and sends nothing', async () => {
    const queue = new FakeQueue('ok');
    const redis = new FakeRedis('reconnecting');
    const refusal = await refusalOf(addOrRefuse(queue, 'vb', { redis, address: '127.0.0.1:6390' }, 'status', {}, {}));
    expect(refusal).toEqual({ code: 'queue_unavailable', text: REFUSAL });
    expect(queue.adds).toEqual([]);
    expect(redis.sets).toEqual([]);
  });

  it('an add Redis rejects (offline queue off) is a refusal too', async () => {
    const queue = new FakeQueue(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
    const refusal = await refusalOf(addOrRefuse(queue, 'vb', { redis: new FakeRedis('ready'), address: '127.0.0.1:6390' }, 'status', {}, {}));
    expect(refusal.code).toBe('queue_unavailable');
  });

  it('an add Redis confirms in time returns the job id, with a fresh token per add', async () => {
    const queue = new FakeQueue('ok');
    const redis = new FakeRedis('ready');
    const failFast = { redis, address: '127.0.0.1:6390' };
    expect(await addOrRefuse(queue, 'vb', failFast, 'execute-request', { requestId: 'abc' }, { jobId: 'abc' })).toEqual({ id: '42' });
    await addOrRefuse(queue, 'vb', failFast, 'execute-request', { requestId: 'abc' }, { jobId: 'abc' });
    const [a, b] = queue.adds.map((x) => x.data[ENQUEUE_TOKEN_FIELD]);
    expect(a).not.toEqual(b);
    expect(queue.adds.map((x) => x.opts)).toEqual([{ jobId: 'abc', delay: 2_000 }, { jobId: 'abc', delay: 2_000 }]);
    expect(redis.sets).toEqual([]);
  });

  it('a busy bot does not refuse an add Redis confirmed while the bot had no CPU (the reply in the socket wins)', async () => {
    // A loopback "Redis" in another process (it must answer while this one is busy) that answers at once.
    const server = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [port] = (await once(server.stdout, 'data')) as [Buffer];
    const socket = connect(Number(String(port).trim()), '127.0.0.1');
    await once(socket, 'connect');
    try {
      const queue: QueueAdd = {
        add: () => {
          const reply = once(socket, 'data').then(() => ({ id: '7' }));
          socket.write('add\r\n');
          // The event loop is held past the bound (GC pause, CPU starvation); the answer arrives meanwhile.
          const until = performance.now() + 300;
          while (performance.now() < until) { /* busy */ }
          return reply;
        },
      };
      expect(await addOrRefuse(queue, 'vb', { redis: new FakeRedis('ready'), address: '127.0.0.1:6390', timeoutMs: 100 }, 'status', {}, {})).toEqual({ id: '7' });
    } finally {
      socket.destroy();
      server.kill();
    }
  });
});

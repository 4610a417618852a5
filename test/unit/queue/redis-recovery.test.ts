import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { keptMarkerKey, reapplyOnReady, type RecoveryRedis } from '../../../src/queue/redis-recovery.ts';
import { captureLogger } from '../../support/capture-logger.ts';

/** A Redis of one process's keys; `flush` is a restart without persistence. */
class FakeRedis extends EventEmitter implements RecoveryRedis {
  keys = new Map<string, string>();
  set(key: string, value: string): Promise<unknown> {
    if (!this.keys.has(key)) this.keys.set(key, value);
    return Promise.resolve('OK');
  }
  exists(key: string): Promise<number> {
    return Promise.resolve(this.keys.has(key) ? 1 : 0);
  }
}

describe('reapplyOnReady', () => {
  it('re-applies every step on each reconnect, and logs the loss of data once when Redis came back empty', async () => {
    const redis = new FakeRedis();
    const { logger, lines } = captureLogger();
    const applied: string[] = [];
    const steps = [
      { name: 'global concurrency of changes-orcl', run: () => (applied.push('concurrency'), Promise.resolve()) },
      { name: 'memory schedulers', run: () => (applied.push('schedulers'), Promise.resolve({ upserted: ['memory-sample'], removed: [] })) },
    ];
    const recovery = await reapplyOnReady(redis, { prefix: 'vb', steps, logger, now: () => 0 });
    expect(applied).toEqual([]); // startRuntime applies them itself at start
    expect(redis.keys.has(keptMarkerKey('vb'))).toBe(true);

    redis.emit('ready'); // a reconnect, data kept (AOF)
    await recovery.settled();
    redis.keys.clear(); // restarted without persistence
    redis.emit('ready');
    await recovery.settled();
    expect(applied).toEqual(['concurrency', 'schedulers', 'concurrency', 'schedulers']);
    const reapplied = { 'global concurrency of changes-orcl': 'ok', 'memory schedulers': { upserted: ['memory-sample'], removed: [] } };
    expect(lines).toEqual([
      { level: 'info', reapplied, ms: 0, msg: 'Redis reconnected: concurrency and job schedulers re-applied' },
      {
        level: 'warn', lost: ['pending change requests', 'audit log', 'memory samples', 'queued jobs'],
        msg: 'Redis came back empty (restarted without persistence, or flushed): pending requests and the audit log are lost — run Redis with appendonly yes (README, "Faults")',
      },
      { level: 'info', reapplied, ms: 0, msg: 'Redis reconnected: concurrency and job schedulers re-applied' },
    ]);
    expect(redis.keys.has(keptMarkerKey('vb'))).toBe(true);
  });

  it('a reconnect that drops again mid-way says so and leaves it to the next one', async () => {
    const redis = new FakeRedis();
    const { logger, lines } = captureLogger();
    let fail = true;
    const steps = [{ name: 'memory schedulers', run: () => (fail ? Promise.reject(new Error('Connection is closed.')) : Promise.resolve()) }];
    const recovery = await reapplyOnReady(redis, { prefix: 'vb', steps, logger, now: () => 0 });
    redis.emit('ready');
    await recovery.settled();
    fail = false;
    redis.emit('ready');
    await recovery.settled();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'Redis reconnected but dropped again before concurrency and schedulers were re-applied; retrying on the next reconnect'],
      ['info', 'Redis reconnected: concurrency and job schedulers re-applied'],
    ]);
  });
});

import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isConnectionError, RedisHealth, redisAddress } from '../../../src/queue/redis-health.ts';
import { captureLogger } from '../../support/capture-logger.ts';

/** Stands in for an ioredis connection: a status and the events it emits. */
class FakeConnection extends EventEmitter {
  status = 'ready';
  goDown(err: Error): void {
    this.status = 'reconnecting';
    this.emit('error', err);
    this.emit('close');
  }
  comeBack(): void {
    this.status = 'ready';
    this.emit('ready');
  }
}

const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' });

afterEach(() => {
  vi.useRealTimers();
});

describe('RedisHealth', () => {
  it('logs an outage once (warn) and its end once (info), however many retries and BullMQ errors come in between', () => {
    const { logger, lines } = captureLogger();
    let t = 1_000;
    const ups: boolean[] = [];
    const health = new RedisHealth('127.0.0.1:6390', logger, { now: () => t, onChange: (up) => ups.push(up) });
    const worker = new FakeConnection();
    const command = new FakeConnection();
    health.watch('worker', worker);
    health.watch('command', command);
    // Five reconnect attempts a second for ten seconds, on both connections, plus Worker and Queue errors.
    for (let i = 0; i < 50; i++) {
      worker.goDown(refused());
      command.goDown(refused());
      health.noteError('worker', refused());
      health.noteError('queue', new Error('Connection is closed.'));
      t += 200;
    }
    expect(health.down).toBe(true);
    worker.comeBack();
    expect(health.down).toBe(true); // the command connection is still away
    command.comeBack();
    expect(health.down).toBe(false);
    expect(lines).toEqual([
      {
        level: 'warn', redis: '127.0.0.1:6390', source: 'worker', err: 'connect ECONNREFUSED 127.0.0.1:6390',
        msg: 'Redis at 127.0.0.1:6390 is not answering: commands are refused until it is back (logged once per outage)',
      },
      { level: 'info', redis: '127.0.0.1:6390', downForMs: 10_000, msg: 'Redis at 127.0.0.1:6390 is answering again after 10.0 s' },
    ]);
    expect(ups).toEqual([false, true]);
  });

  it('logs other errors of one source at most once a minute, and says nothing about its own quit', () => {
    const { logger, lines } = captureLogger();
    let t = 0;
    const health = new RedisHealth('127.0.0.1:6390', logger, { now: () => t });
    const conn = new FakeConnection();
    health.watch('worker', conn);
    for (let i = 0; i < 10; i++) health.noteError('worker', new Error('ERR Error running script'));
    t += 61_000;
    health.noteError('worker', new Error('ERR Error running script'));
    health.stop();
    conn.status = 'end';
    conn.emit('close');
    conn.emit('end');
    expect(lines.map((l) => [l.level, l.source, l.msg])).toEqual([
      ['error', 'worker', 'worker error (repeats within a minute are not logged)'],
      ['error', 'worker', 'worker error (repeats within a minute are not logged)'],
    ]);
  });

  it('a Worker connection error our connections do not confirm is logged after a short wait, once', async () => {
    vi.useFakeTimers();
    const { logger, lines } = captureLogger();
    const health = new RedisHealth('127.0.0.1:6390', logger);
    health.watch('worker', new FakeConnection());
    health.noteError('worker', refused());
    expect(lines).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_500);
    expect(lines.map((l) => [l.level, l.source])).toEqual([['error', 'worker']]);
  });

  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), true],
    [new Error("Stream isn't writeable and enableOfflineQueue options is false"), true],
    [new Error('Command timed out'), true],
    [new Error('Connection is closed.'), true],
    [new Error('ERR unknown command'), false],
    ['not an error', false],
  ])('isConnectionError(%s) is %s', (err, expected) => {
    expect(isConnectionError(err)).toBe(expected);
  });

  it('names host:port of a Redis URL, never its password', () => {
    expect(redisAddress('redis://:secret@198.51.100.5:6380/2')).toBe('198.51.100.5:6380');
    expect(redisAddress('redis://localhost')).toBe('localhost:6379');
  });
});

describe('lost job state after an empty restart or a failover', () => {
  it("BullMQ's Missing key / Missing lock / Lock mismatch are explained at warn, other errors stay errors", async () => {
    const { isLostJobState } = await import('../../../src/queue/redis-health.ts');
    expect(isLostJobState(new Error('Missing key for job memory-sample-start-1. moveToFinished'))).toBe(true);
    expect(isLostJobState(new Error('Missing lock for job 38. moveToFinished'))).toBe(true);
    expect(isLostJobState(new Error('Lock mismatch for job 29. Cmd moveToDelayed from active'))).toBe(true);
    expect(isLostJobState(new Error('ERR syntax error'))).toBe(false);
  });
});

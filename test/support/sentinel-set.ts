/**
 * A real Redis Sentinel setup of a test's own: one master, one replica and three sentinels, all on
 * free loopback ports, in a temporary directory. `failover()` asks the sentinels for a failover and
 * resolves once they name the new master.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../../lab/lab.ts';
import { freePort } from './free-port.ts';

export const SENTINEL_NAME = 'vipbot';

export class SentinelSet {
  private readonly children: ChildProcess[] = [];
  private constructor(readonly dir: string, readonly redisPorts: [number, number], readonly sentinelPorts: number[]) {}

  /** `REDIS_SENTINELS` as the bot reads it. */
  get sentinels(): string {
    return this.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',');
  }

  static async start(): Promise<SentinelSet> {
    const dir = mkdtempSync(join(tmpdir(), 'vipbot-sentinel-'));
    const ports = [await freePort(), await freePort()] as [number, number];
    const sentinelPorts = [await freePort(), await freePort(), await freePort()];
    const set = new SentinelSet(dir, ports, sentinelPorts);
    set.spawn('redis-server', ['--port', String(ports[0]), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', 'm.rdb']);
    set.spawn('redis-server', ['--port', String(ports[1]), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', 'r.rdb', '--replicaof', '127.0.0.1', String(ports[0])]);
    await waitFor(async () => (await info(ports[1], 'replication')).includes('master_link_status:up'), 10_000, 'replica in sync');
    for (const [i, port] of sentinelPorts.entries()) {
      // Sentinel rewrites its config file: one file each.
      const file = join(dir, `sentinel-${i}.conf`);
      writeFileSync(file, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
        `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${ports[0]} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
        `sentinel parallel-syncs ${SENTINEL_NAME} 1`, '',
      ].join('\n'));
      set.spawn('redis-sentinel', [file]);
    }
    await waitFor(async () => (await set.sentinelInfo(0)).includes('sentinels=3'), 20_000, 'three sentinels that know each other');
    return set;
  }

  private spawn(cmd: string, args: string[]): void {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    this.children.push(child);
  }

  private async sentinelInfo(i: number): Promise<string> {
    return info(this.sentinelPorts[i]!, 'sentinel');
  }

  /** The master's port as sentinel 0 sees it. */
  async masterPort(): Promise<number> {
    const client = new Redis({ port: this.sentinelPorts[0], host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    try {
      await client.connect();
      const reply = (await client.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_NAME)) as [string, string];
      return Number(reply[1]);
    } finally {
      client.disconnect();
    }
  }

  /** Forces a failover and waits until the old replica is master and the old master replicates from it. */
  async failover(): Promise<{ from: number; to: number }> {
    const from = await this.masterPort();
    const client = new Redis({ port: this.sentinelPorts[0], host: '127.0.0.1', maxRetriesPerRequest: 1 });
    try {
      await client.call('SENTINEL', 'failover', SENTINEL_NAME);
    } finally {
      client.disconnect();
    }
    await waitFor(async () => (await this.masterPort()) !== from, 20_000, 'sentinels name a new master');
    const to = await this.masterPort();
    await waitFor(async () => (await info(to, 'replication')).includes('role:master'), 10_000, 'new master took the role');
    return { from, to };
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    })));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function info(port: number, section: string): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {}); // a server that is gone answers ''
  try {
    await client.connect();
    return await client.info(section);
  } catch {
    return '';
  } finally {
    client.disconnect();
  }
}

/**
 * The bot under test as a separate process (`node bin/vipbot.js all`), so its RSS and its ack latency
 * are its own. Also: which SSH connections it holds open (read from /proc, to check that a "cold" run
 * really starts with none and a "warm" one with one per host), its memory, and cleaning its Redis keys.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort } from '../test/support/free-port.ts';

const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TAIL_BYTES = 64 * 1024;

export interface BotProcessOptions {
  configPath: string;
  redisUrl: string;
  slackApiUrl: string;
  signingSecret: string;
  /** Max wait for GET /healthz 200. */
  startTimeoutMs?: number;
  /** `vipbot <role>`: the sizes run `all`; the scale phase a `bot` and separate `worker`s (they serve /healthz too). */
  role?: 'all' | 'bot' | 'worker';
  /** Extra node flags, e.g. `--cpu-prof` when looking for where the bot's time goes. */
  nodeArgs?: string[];
  /** Queue prefix to share with another BotProcess (a separate worker); default a fresh random one. */
  prefix?: string;
}

export interface BotMemory {
  /** KiB, from /proc/<pid>/status. */
  vmRssKib: number;
  vmHwmKib: number;
}

export class BotProcess {
  readonly prefix: string;
  private child?: ChildProcess;
  private output = '';
  private exited?: string;
  port = 0;

  constructor(private readonly options: BotProcessOptions) {
    this.prefix = options.prefix ?? `vipbot-bench-${randomBytes(4).toString('hex')}`;
  }

  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('the bot is not running');
    return pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the bot and resolves once GET /healthz answers 200. */
  async start(): Promise<void> {
    this.port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      LANG: 'C.UTF-8',
      VIPBOT_CONFIG: this.options.configPath,
      REDIS_URL: this.options.redisUrl,
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_SIGNING_SECRET: this.options.signingSecret,
      SLACK_API_URL: this.options.slackApiUrl,
      PORT: String(this.port),
      VIPBOT_QUEUE_PREFIX: this.prefix,
      LOG_LEVEL: 'warn',
    };
    const child = spawn(process.execPath, [...(this.options.nodeArgs ?? []), join(REPO_DIR, 'bin', 'vipbot.js'), this.options.role ?? 'all'], { cwd: REPO_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-TAIL_BYTES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', (code, signal) => {
      this.exited = `exited (${signal ?? String(code)})`;
    });
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 30_000);
    for (;;) {
      if (this.exited) throw new Error(`the bot ${this.exited} before answering /healthz:\n${this.tail()}`);
      if (await this.healthy()) return;
      if (Date.now() > deadline) throw new Error(`the bot did not answer GET /healthz 200 within ${this.options.startTimeoutMs ?? 30_000} ms:\n${this.tail()}`);
      await sleep(100);
    }
  }

  /** Whether the process has exited (then `tail()` says why). */
  get alive(): boolean {
    return this.child !== undefined && this.exited === undefined;
  }

  /** The last lines the bot printed (warnings and errors only: LOG_LEVEL=warn). */
  tail(lines = 30): string {
    return this.output.trimEnd().split('\n').slice(-lines).join('\n');
  }

  private async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  async memory(): Promise<BotMemory> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { vmRssKib: field('VmRSS'), vmHwmKib: field('VmHWM') };
  }

  /** CPU the process has used so far (all threads, user + system), ms; 10 ms resolution. */
  async cpuMs(): Promise<number> {
    return processCpuMs(this.pid);
  }

  /** Established TCP connections from this process to port 22 (its pooled SSH connections). */
  async sshConnections(): Promise<number> {
    return sshConnectionsOf(this.pid);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. Then deletes its Redis keys. */
  async stop(graceMs = 25_000): Promise<void> {
    const child = this.child;
    if (child && this.exited === undefined) {
      const gone = new Promise<void>((resolveGone) => child.once('exit', () => resolveGone()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    }
    await deleteKeys(this.options.redisUrl, `${this.prefix}:*`);
  }
}

/** utime + stime of a process from /proc/<pid>/stat (fields 14 and 15, in USER_HZ = 100 ticks), in ms. */
export async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: count fields from the last ')' (field 3 onwards).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Counts a process's established TCP sockets whose remote port is 22, via /proc (no `ss` needed). */
export async function sshConnectionsOf(pid: number): Promise<number> {
  const inodes = new Set<string>();
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  await Promise.all(fds.map(async (fd) => {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m?.[1]) inodes.add(m[1]);
  }));
  let count = 0;
  for (const file of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${file}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
      const remote = cols[2] ?? '';
      const state = cols[3];
      const inode = cols[9] ?? '';
      if (state === '01' && remote.endsWith(':0016') && inodes.has(inode)) count++;
    }
  }
  return count;
}

/** Removes keys matching the pattern (SCAN + DEL), so a bench run leaves nothing in Redis. */
export async function deleteKeys(redisUrl: string, pattern: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  let deleted = 0;
  try {
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
      rounds++;
    } while (cursor !== '0' && rounds < 100_000);
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export { freePort };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

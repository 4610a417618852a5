/**
 * Pool logic against a fake node-ssh client: sharing, queueing, expiry, drops and error mapping.
 * The real thing (sshd on loopback) is in test/integration/ssh-pool.test.ts.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SshSettings } from '../../../src/config/config.ts';
import { VipbotError } from '../../../src/errors.ts';
import { listAddresses, readConfig, runTrackScript, stageConfig, serviceStop, type NodeCommand } from '../../../src/hosts/node-commands.ts';
import { SshPool, sshTargetFor, type CommandEvent, type SshChannelLike, type SshClientLike, type SshPoolOptions, type SshTarget } from '../../../src/hosts/ssh-pool.ts';

const fixtures = fileURLToPath(new URL('../../fixtures/hosts/', import.meta.url));
const pubLine = readFileSync(join(fixtures, 'keys/node1-ed25519.pub'), 'utf8').trim();
const keyA = Buffer.from(pubLine.split(' ')[1]!, 'base64');
const keyB = Buffer.from(readFileSync(join(fixtures, 'keys/node2-ed25519.pub'), 'utf8').split(' ')[1]!, 'base64');
const SECRET = '-----BEGIN OPENSSH PRIVATE KEY-----\nTOP-SECRET-KEY-MATERIAL\n-----END OPENSSH PRIVATE KEY-----\n';

const dir = mkdtempSync(join(tmpdir(), 'vipbot-pool-unit-'));
const knownHostsPath = join(dir, 'known_hosts');
const privateKeyPath = join(dir, 'id_ed25519');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the fake host does for one exec: exit code and output, or never answer. */
interface ExecReply {
  code?: number | null;
  signal?: string;
  stdout?: string;
  stderr?: string;
  /** Resolve only when the test says so. */
  hold?: Promise<void>;
  /** Channel never opens: the exec fails like a dead connection. */
  failOpen?: Error;
  /** The host vanished without a word: the channel never opens and nothing ever comes back. */
  silent?: boolean;
}

class FakeChannel implements SshChannelLike {
  readonly events = new EventEmitter();
  closed = false;
  on(event: 'exit', listener: (code: number | null, signal?: string) => void) {
    this.events.on(event, listener);
    return this;
  }
  close() {
    this.closed = true;
    this.events.emit('closed');
  }
}

class FakeConnection extends EventEmitter {
  ended = false;
  end() {
    if (this.ended) return;
    this.ended = true;
    setImmediate(() => this.emit('close'));
  }
  /** The host vanished: socket error, then close. */
  drop(message = 'read ECONNRESET') {
    this.emit('error', Object.assign(new Error(message), { level: 'client-socket' }));
    this.end();
  }
}

class FakeHost {
  connects = 0;
  clients: FakeClient[] = [];
  commands: Array<{ command: string; stdin?: string }> = [];
  channels: FakeChannel[] = [];
  presentKey: Buffer = keyA;
  connectDelayMs = 5;
  connectError?: Error;
  connectHangs = false;
  reply: (command: string) => ExecReply = () => ({ code: 0, stdout: 'ok\n' });

  createClient = (): SshClientLike => {
    const client = new FakeClient(this);
    this.clients.push(client);
    return client;
  };
}

class FakeClient implements SshClientLike {
  connection: FakeConnection | null = null;
  config?: Record<string, unknown>;
  constructor(private readonly host: FakeHost) {}

  async connect(config: Record<string, unknown>) {
    this.config = config;
    this.host.connects++;
    if (this.host.connectHangs) return new Promise(() => undefined);
    await tick(this.host.connectDelayMs);
    const verifier = config.hostVerifier as (key: Buffer) => boolean;
    if (!verifier(this.host.presentKey)) throw Object.assign(new Error('Host denied (verification failed)'), { level: 'handshake' });
    if (this.host.connectError) throw this.host.connectError;
    const conn = new FakeConnection();
    conn.on('close', () => {
      if (this.connection === conn) this.connection = null;
    });
    this.connection = conn;
    return this;
  }

  async execCommand(command: string, options: Parameters<SshClientLike['execCommand']>[1]) {
    const conn = this.connection;
    if (!conn) throw new Error('Not connected to server');
    const reply = this.host.reply(command);
    this.host.commands.push({ command, ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
    await tick(1);
    if (reply.failOpen) throw reply.failOpen;
    if (reply.silent) return new Promise<never>(() => undefined);
    const channel = new FakeChannel();
    this.host.channels.push(channel);
    options.onChannel?.(channel);
    // Like ssh2: the channel closes on its own close(), on the connection's close, or after exit.
    const ended = new Promise<'closed'>((resolve) => {
      channel.events.once('closed', () => resolve('closed'));
      conn.once('close', () => resolve('closed'));
    });
    const outcome = await Promise.race([(reply.hold ?? Promise.resolve()).then(() => 'done' as const), ended]);
    if (outcome === 'closed') return { code: null, signal: null };
    if (reply.stdout) options.onStdout?.(Buffer.from(reply.stdout));
    if (reply.stderr) options.onStderr?.(Buffer.from(reply.stderr));
    channel.events.emit('exit', reply.code ?? null, reply.signal);
    return { code: reply.code ?? null, signal: reply.signal ?? null };
  }

  dispose() {
    this.connection?.end();
    this.connection = null;
  }
}

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

function target(overrides: Partial<SshSettings> = {}, name = 'node1', host = '198.51.100.1'): SshTarget {
  // Overrides are in the parsed form (milliseconds), so they go on after parsing.
  return { name, host, ssh: { ...SshSettings.parse({ knownHostsPath, privateKeyPath, connectTimeout: '5s', commandTimeout: '30s' }), ...overrides } };
}

let host: FakeHost;
let pool: SshPool;
let events: CommandEvent[];
let logs: unknown[];

function makePool(options: SshPoolOptions = {}) {
  return new SshPool({
    createClient: host.createClient,
    onCommand: (e) => events.push(e),
    logger: { debug: (o, m) => logs.push([o, m]), warn: (o, m) => logs.push([o, m]) },
    ...options,
  });
}

beforeEach(() => {
  writeFileSync(knownHostsPath, `198.51.100.1 ${pubLine}\n198.51.100.2 ${pubLine}\n[198.51.100.1]:2222 ${pubLine}\n`);
  writeFileSync(privateKeyPath, SECRET);
  host = new FakeHost();
  events = [];
  logs = [];
  pool = makePool();
});
afterEach(async () => {
  await pool.close();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    if (!(err instanceof VipbotError)) throw err;
    return err.code;
  }
}

describe('running commands', () => {
  it('sends the wrapped, quoted command and returns code, output and timing', async () => {
    host.reply = () => ({ code: 0, stdout: 'global_defs {}\n', stderr: '' });
    const result = await pool.run(target(), readConfig('/etc/keepalived/keepalived.conf'));
    expect(result).toEqual({ code: 0, stdout: 'global_defs {}\n', stderr: '', durationMs: expect.any(Number) });
    expect(host.commands).toEqual([{ command: "'timeout' '--kill-after=2' '30' 'cat' '--' '/etc/keepalived/keepalived.conf'" }]);
    expect(events).toEqual([{ node: 'node1', host: '198.51.100.1', id: 'read-config', durationMs: expect.any(Number), code: 0 }]);
  });

  it('uses sudo when the node says so', async () => {
    await pool.run(target({ sudo: true, commandTimeout: 5_000 }), listAddresses());
    expect(host.commands[0]?.command).toBe("'timeout' '--kill-after=2' '5' 'sudo' '-n' '--' 'ip' '-o' 'addr' 'show'");
  });

  it('passes stdin through', async () => {
    await pool.run(target(), stageConfig('/etc/keepalived/keepalived.conf.vipbot-new', 'vrrp_instance VI_1 {}\n'));
    expect(host.commands[0]?.stdin).toBe('vrrp_instance VI_1 {}\n');
  });

  it('a non-zero exit is a result, not an exception', async () => {
    host.reply = () => ({ code: 3, stdout: 'inactive\n' });
    expect(await pool.run(target(), runTrackScript('oracle', ['/etc/keepalived/primary_check.sh']))).toMatchObject({ code: 3, stdout: 'inactive\n' });
  });

  it('a signal death is a result with the signal name', async () => {
    host.reply = () => ({ code: null, signal: 'SEGV' });
    expect(await pool.run(target(), listAddresses())).toMatchObject({ code: null, signal: 'SEGV' });
  });

  it.each([124, 137])('exit %i from the host-side timeout is ssh_command_timeout', async (code) => {
    host.reply = () => ({ code });
    await expect(pool.run(target(), runTrackScript(undefined, ['/bin/sleep', '30']))).rejects.toMatchObject({ code: 'ssh_command_timeout', message: expect.stringContaining(`host-side timeout, exit ${code}`) });
    expect(events[0]).toMatchObject({ id: 'run-track-script', error: 'ssh_command_timeout', code: null });
  });

  it('sudo refusing is ssh_sudo_denied with the fix', async () => {
    host.reply = () => ({ code: 1, stderr: 'sudo: a password is required\n' });
    const err = await pool.run(target({ sudo: true, user: 'vipbot' }), serviceStop('keepalived')).catch((e: VipbotError) => e);
    expect(err).toMatchObject({ code: 'ssh_sudo_denied', message: 'sudo refused systemctl stop keepalived on node1 (198.51.100.1): a password is required' });
    expect((err as VipbotError).advice).toContain('sudoers');
  });

  it('without sudo, exit 1 with a sudo-looking message is still just a result', async () => {
    host.reply = () => ({ code: 1, stderr: 'sudo: a password is required\n' });
    expect(await pool.run(target(), listAddresses())).toMatchObject({ code: 1 });
  });

  it('refuses a command not built by node-commands.ts without connecting', async () => {
    const forged = { id: 'read-config', argv: ['sh', '-c', 'reboot'], mutates: false } as NodeCommand;
    expect(await codeOf(pool.run(target(), forged))).toBe('node_command_invalid');
    expect(host.connects).toBe(0);
  });

  it('keeps the key out of logs and hooks', async () => {
    host.reply = () => ({ code: 2, stderr: 'nope' });
    await pool.run(target(), listAddresses());
    host.connectError = Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' });
    await pool.run(target({}, 'node2', '198.51.100.2'), listAddresses()).catch(() => undefined);
    const text = JSON.stringify([logs, events]);
    expect(text).not.toContain('TOP-SECRET');
    expect(text).not.toContain('PRIVATE KEY');
    expect(logs.length).toBeGreaterThan(0);
  });
});

describe('sshTargetFor', () => {
  it('takes name, host and resolved ssh settings from a configured node', () => {
    const ssh = target().ssh;
    expect(sshTargetFor({ node: { name: 'node2', host: '198.51.100.2' }, ssh })).toEqual({ name: 'node2', host: '198.51.100.2', ssh });
  });
});

describe('connection sharing', () => {
  it('concurrent runs for a not-yet-connected host share one connect attempt and one connection', async () => {
    host.connectDelayMs = 30;
    const results = await Promise.all(Array.from({ length: 6 }, () => pool.run(target(), listAddresses())));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(host.connects).toBe(1);
    expect(pool.stats()).toMatchObject({ connections: 1, connectAttempts: 1, activeChannels: 0, queued: 0 });
  });

  it('one connection per user, host and port', async () => {
    await pool.run(target(), listAddresses());
    await pool.run(target({ port: 2222 }), listAddresses());
    await pool.run(target({ user: 'vipbot' }), listAddresses());
    await pool.run(target({}, 'node2', '198.51.100.2'), listAddresses());
    await pool.run(target(), listAddresses());
    expect(pool.stats().connections).toBe(4);
  });

  it('offers the host key types known_hosts has first', async () => {
    writeFileSync(knownHostsPath, `198.51.100.1 ${readFileSync(join(fixtures, 'keys/node4-rsa.pub'), 'utf8')}198.51.100.1 ${pubLine}\n`);
    await pool.run(target(), listAddresses());
    const config = host.clients[0]!.config!;
    expect((config.algorithms as { serverHostKey: string[] }).serverHostKey.slice(0, 4)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(config).toMatchObject({ host: '198.51.100.1', port: 22, username: 'root', readyTimeout: 5_000 });
  });

  it('caps channels per connection and queues the rest', async () => {
    pool = makePool({ maxChannelsPerConnection: 2 });
    const gate = deferred();
    host.reply = () => ({ code: 0, hold: gate.promise });
    const runs = Array.from({ length: 5 }, () => pool.run(target(), listAddresses()));
    await tick(30);
    expect(pool.stats()).toMatchObject({ connections: 1, activeChannels: 2, queued: 3 });
    expect(host.commands).toHaveLength(2);
    gate.release();
    expect((await Promise.all(runs)).every((r) => r.code === 0)).toBe(true);
    expect(host.commands).toHaveLength(5);
    expect(pool.stats()).toMatchObject({ activeChannels: 0, queued: 0 });
  });

  it('an abort while queued leaves the queue', async () => {
    pool = makePool({ maxChannelsPerConnection: 1 });
    const gate = deferred();
    host.reply = () => ({ code: 0, hold: gate.promise });
    const first = pool.run(target(), listAddresses());
    const controller = new AbortController();
    const second = pool.run(target(), listAddresses(), { signal: controller.signal });
    await tick(20);
    expect(pool.stats().queued).toBe(1);
    controller.abort();
    expect(await codeOf(second)).toBe('ssh_aborted');
    expect(pool.stats().queued).toBe(0);
    gate.release();
    expect((await first).code).toBe(0);
    expect(host.commands).toHaveLength(1);
  });

  it('an abort while running closes the channel', async () => {
    host.reply = () => ({ code: 0, hold: new Promise(() => undefined) });
    const controller = new AbortController();
    const run = pool.run(target(), listAddresses(), { signal: controller.signal });
    await tick(20);
    controller.abort();
    expect(await codeOf(run)).toBe('ssh_aborted');
    expect(host.channels[0]?.closed).toBe(true);
    await tick(5);
    expect(pool.stats().activeChannels).toBe(0);
  });

  it('warm pre-connects and never throws', async () => {
    host.connectError = Object.assign(new Error('connect ECONNREFUSED 198.51.100.2:22'), { level: 'client-socket', code: 'ECONNREFUSED' });
    const settled = await pool.warm([target({}, 'node2', '198.51.100.2')]);
    expect(settled[0]).toMatchObject({ ok: false, error: { code: 'ssh_connect_failed' } });
    host.connectError = undefined;
    expect(await pool.warm([target()])).toEqual([{ ok: true, value: undefined }]);
    expect(pool.stats().connections).toBe(1);
    await pool.run(target(), listAddresses());
    expect(host.connects).toBe(2);
  });
});

describe('connection lifecycle', () => {
  it('closes idle connections after the node\'s ssh.idleTimeout and reconnects on the next run', async () => {
    await pool.run(target({ idleTimeout: 40 }), listAddresses());
    expect(pool.stats().connections).toBe(1);
    await tick(80);
    expect(pool.stats().connections).toBe(0);
    expect(host.clients[0]!.connection).toBeNull();
    await pool.run(target({ idleTimeout: 40 }), listAddresses());
    expect(host.connects).toBe(2);
  });

  it('a busy connection does not expire, and expires once idle', async () => {
    const gate = deferred();
    host.reply = () => ({ code: 0, hold: gate.promise });
    const run = pool.run(target({ idleTimeout: 30 }), listAddresses());
    await tick(80);
    expect(pool.stats().connections).toBe(1);
    gate.release();
    await run;
    await tick(80);
    expect(pool.stats().connections).toBe(0);
  });

  it('uses the pool default when a target has no idleTimeout', async () => {
    pool = makePool({ idleTimeoutMs: 30 });
    const t = target();
    const { idleTimeout: _ignored, ...ssh } = t.ssh;
    await pool.run({ ...t, ssh: ssh as SshSettings }, listAddresses());
    await tick(80);
    expect(pool.stats().connections).toBe(0);
  });

  it('a dropped connection leaves the pool without crashing, and the next run reconnects', async () => {
    await pool.run(target(), listAddresses());
    host.clients[0]!.connection!.drop();
    await tick(5);
    expect(pool.stats().connections).toBe(0);
    expect((await pool.run(target(), listAddresses())).code).toBe(0);
    expect(host.connects).toBe(2);
  });

  it('a drop while a command runs is ssh_connection_lost (outcome unknown)', async () => {
    host.reply = () => ({ code: 0, hold: new Promise(() => undefined) });
    const run = pool.run(target(), serviceStop('keepalived'));
    await tick(20);
    host.clients[0]!.connection!.drop();
    const err = await run.catch((e: VipbotError) => e);
    expect(err).toMatchObject({ code: 'ssh_connection_lost' });
    expect((err as VipbotError).advice).toMatch(/check the host/);
  });

  it('a command that never reached a dead pooled connection runs on a fresh one', async () => {
    await pool.run(target(), listAddresses());
    let first = true;
    host.reply = () => {
      if (!first) return { code: 0, stdout: 'second try' };
      first = false;
      return { failOpen: new Error('No response from server') };
    };
    expect(await pool.run(target(), serviceStop('keepalived'))).toMatchObject({ code: 0, stdout: 'second try' });
    expect(host.connects).toBe(2);
  });

  it('queued commands of a dropped connection move to a fresh one', async () => {
    pool = makePool({ maxChannelsPerConnection: 1 });
    host.reply = () => ({ code: 0, hold: new Promise(() => undefined) });
    const running = pool.run(target(), listAddresses());
    await tick(20);
    const queued = pool.run(target(), readConfig('/etc/keepalived/keepalived.conf'));
    await tick(5);
    host.reply = () => ({ code: 0, stdout: 'fresh' });
    host.clients[0]!.connection!.drop();
    expect(await codeOf(running)).toBe('ssh_connection_lost');
    expect(await queued).toMatchObject({ stdout: 'fresh' });
  });

  it('the client-side guard fires when the host never answers, and the connection is replaced', async () => {
    pool = makePool({ clientGraceMs: 50 });
    host.reply = () => ({ hold: new Promise(() => undefined) });
    const started = Date.now();
    const err = await pool.run(target({ commandTimeout: 100 }), listAddresses()).catch((e: VipbotError) => e);
    expect(err).toMatchObject({ code: 'ssh_command_timeout', message: expect.stringContaining('client-side guard') });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(host.channels[0]?.closed).toBe(true);
    host.reply = () => ({ code: 0 });
    await pool.run(target(), listAddresses());
    expect(host.connects).toBe(2);
  });

  it('close() ends everything and refuses later runs', async () => {
    await pool.run(target(), listAddresses());
    await pool.close();
    expect(host.clients[0]!.connection).toBeNull();
    expect(await codeOf(pool.run(target(), listAddresses()))).toBe('ssh_pool_closed');
  });

  it('stops output floods', async () => {
    pool = makePool({ maxOutputBytes: 10 });
    host.reply = () => ({ code: 0, stdout: 'x'.repeat(11) });
    expect(await codeOf(pool.run(target(), listAddresses()))).toBe('ssh_output_too_large');
  });
});

describe('connect failures become coded errors', () => {
  it('unknown host key', async () => {
    host.presentKey = keyA;
    const err = await pool.run(target({}, 'node9', '198.51.100.9'), listAddresses()).catch((e: VipbotError) => e);
    expect(err).toMatchObject({ code: 'ssh_host_key_unknown' });
    expect((err as VipbotError).toUserText()).toBe(
      `SSH host key for node9 (198.51.100.9), ssh-ed25519 SHA256:5Q50HVn/yLn2HzkaRjlYdtFI4NSHMLyyGIGrQQ6UYaM, is not in ${knownHostsPath} — add it with: ssh-keyscan -t ed25519 198.51.100.9 >> ${knownHostsPath} (check the fingerprint first)`,
    );
  });

  it('changed host key names the known_hosts line', async () => {
    host.presentKey = keyB;
    const err = await pool.run(target({}, 'node2', '198.51.100.2'), listAddresses()).catch((e: VipbotError) => e);
    expect(err).toMatchObject({ code: 'ssh_host_key_changed', message: expect.stringContaining(`does not match ${knownHostsPath} line 2`) });
  });

  it('revoked host key', async () => {
    appendFileSync(knownHostsPath, `@revoked * ${pubLine}\n`);
    expect(await codeOf(pool.run(target(), listAddresses()))).toBe('ssh_host_key_revoked');
  });

  it('re-reads known_hosts when it changes', async () => {
    expect(await codeOf(pool.run(target({}, 'node9', '198.51.100.9'), listAddresses()))).toBe('ssh_host_key_unknown');
    appendFileSync(knownHostsPath, `198.51.100.9 ${pubLine}\n`);
    // Same-second edits still change the size; set the mtime too, as an editor would.
    const later = new Date(Date.now() + 2_000);
    utimesSync(knownHostsPath, later, later);
    expect(await codeOf(pool.run(target({}, 'node9', '198.51.100.9'), listAddresses()))).toBe('resolved');
  });

  it.each<[string, Error, string]>([
    ['auth', Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }), 'ssh_auth_failed'],
    ['refused', Object.assign(new Error('connect ECONNREFUSED 198.51.100.1:22'), { level: 'client-socket', code: 'ECONNREFUSED' }), 'ssh_connect_failed'],
    ['handshake timeout', Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' }), 'ssh_connect_timeout'],
    ['lost before handshake', Object.assign(new Error('Connection lost before handshake'), { level: 'protocol' }), 'ssh_connect_failed'],
    ['bad key', new Error('Cannot parse privateKey: Unsupported key format'), 'ssh_private_key_unreadable'],
  ])('%s', async (_what, error, code) => {
    host.connectError = error;
    const err = await pool.run(target(), listAddresses()).catch((e: VipbotError) => e);
    expect(err).toMatchObject({ code });
    expect((err as VipbotError).advice).toBeTruthy();
    expect(events[0]).toMatchObject({ error: code });
  });

  it('a connect that never finishes fails after connectTimeout + 1 s', async () => {
    host.connectHangs = true;
    const started = Date.now();
    expect(await codeOf(pool.run(target({ connectTimeout: 200 }), listAddresses()))).toBe('ssh_connect_timeout');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1_150);
    expect(elapsed).toBeLessThan(1_700);
  });

  it('missing known_hosts or key file', async () => {
    expect(await codeOf(pool.run(target({ knownHostsPath: join(dir, 'nope') }), listAddresses()))).toBe('ssh_known_hosts_unreadable');
    expect(await codeOf(pool.run(target({ privateKeyPath: join(dir, 'nope') }), listAddresses()))).toBe('ssh_private_key_unreadable');
    expect(host.connects).toBe(0);
  });

  it('a failed connect is not cached: the next run tries again', async () => {
    host.connectError = Object.assign(new Error('connect ECONNREFUSED'), { level: 'client-socket', code: 'ECONNREFUSED' });
    expect(await codeOf(pool.run(target(), listAddresses()))).toBe('ssh_connect_failed');
    host.connectError = undefined;
    expect(await codeOf(pool.run(target(), listAddresses()))).toBe('resolved');
    expect(host.connects).toBe(2);
  });

  it('concurrent runs sharing a failed connect all get its error', async () => {
    host.connectError = Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' });
    const codes = await Promise.all([1, 2, 3].map(() => codeOf(pool.run(target(), listAddresses()))));
    expect(codes).toEqual(['ssh_auth_failed', 'ssh_auth_failed', 'ssh_auth_failed']);
    expect(host.connects).toBe(1);
  });
});

describe('a pooled connection whose host went silent', () => {
  it('fails within connectTimeout as unreachable and the next command gets a new connection', async () => {
    const t = target({ connectTimeout: 200 });
    await pool.run(t, listAddresses());
    host.reply = () => ({ silent: true });
    const started = performance.now();
    expect(await codeOf(pool.run(t, listAddresses()))).toBe('ssh_connect_timeout');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1000);
    host.reply = () => ({ code: 0, stdout: 'ok\n' });
    await pool.run(t, listAddresses());
    expect(host.connects).toBe(2);
  });
});

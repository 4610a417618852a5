/**
 * The SSH pool against a real OpenSSH server on loopback: our own throwaway `sshd` on 127.0.0.1, a
 * free high port, a fresh host key and client key in a temp dir. Needs root (sshd drops privileges
 * and must read /root-owned files) and Debian's openssh-server; skipped otherwise.
 *
 * Root's login shell sources /root/.bashrc for SSH commands; on the dev box that costs ~90 ms per
 * command (pyenv init), which shows up in the latencies printed below.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, utimesSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SshSettings } from '../../src/config/config.ts';
import { VipbotError } from '../../src/errors.ts';
import {
  backupConfig,
  copyOwnerMode,
  installConfig,
  listAddresses,
  readConfig,
  runTrackScript,
  stageConfig,
} from '../../src/hosts/node-commands.ts';
import { SshPool, type SshTarget } from '../../src/hosts/ssh-pool.ts';

const SSHD = '/usr/sbin/sshd';
const canRun = process.getuid?.() === 0 && existsSync(SSHD) && existsSync('/usr/bin/ssh-keygen');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every process below `root` in the process tree (from `ps`), deepest last. */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const line of execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid && ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

/** A throwaway sshd on 127.0.0.1; `log` collects its stderr (-e) for connection counting. */
class LoopbackSshd {
  readonly dir = mkdtempSync(join(tmpdir(), 'vipbot-sshd-'));
  readonly hostKey = join(this.dir, 'host_ed25519');
  readonly clientKey = join(this.dir, 'client_ed25519');
  readonly strangerKey = join(this.dir, 'stranger_ed25519');
  readonly knownHosts = join(this.dir, 'known_hosts');
  port = 0;
  log = '';
  private child?: ChildProcess;

  async setUp(): Promise<void> {
    // sshd refuses to start without its privilege separation directory (normally made by systemd).
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    this.keygen(this.hostKey);
    this.keygen(this.clientKey);
    this.keygen(this.strangerKey);
    writeFileSync(join(this.dir, 'authorized_keys'), readFileSync(`${this.clientKey}.pub`), { mode: 0o600 });
    this.port = await freePort();
    writeFileSync(join(this.dir, 'sshd_config'), [
      `Port ${this.port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${this.hostKey}`,
      `PidFile ${join(this.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PrintMotd no',
      'PrintLastLog no',
      // The temp dir is world-readable under /tmp; StrictModes would reject authorized_keys there.
      'StrictModes no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'));
    this.trustCurrentHostKey();
    await this.start();
  }

  keygen(path: string): void {
    rmSync(path, { force: true });
    rmSync(`${path}.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'vipbot-test', '-f', path]);
  }

  /** known_hosts = the current host key for [127.0.0.1]:port, as `ssh-keyscan` would write it. */
  trustCurrentHostKey(): void {
    const [type, key] = readFileSync(`${this.hostKey}.pub`, 'utf8').split(' ');
    writeFileSync(this.knownHosts, `# loopback sshd for vipbot tests\n[127.0.0.1]:${this.port} ${type} ${key}\n`);
    // The pool caches known_hosts by mtime; a rewrite in the same millisecond must still count.
    const later = new Date(Date.now() + 1_000 + Math.random() * 1_000);
    utimesSync(this.knownHosts, later, later);
  }

  hostFingerprint(): string {
    return execFileSync('ssh-keygen', ['-lf', `${this.hostKey}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
  }

  async start(): Promise<void> {
    // Own process group, so a "host crash" can take the listener and its session processes down together.
    const child = spawn(SSHD, ['-D', '-e', '-f', join(this.dir, 'sshd_config')], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.log += chunk));
    const deadline = Date.now() + 10_000;
    const from = this.log.length; // a restart must not be fooled by the previous run's line
    while (!this.log.slice(from).includes(`Server listening on 127.0.0.1 port ${this.port}`)) {
      if (child.exitCode !== null) throw new Error(`sshd exited: ${this.log}`);
      if (Date.now() > deadline) throw new Error(`sshd did not start: ${this.log}`);
      await sleep(20);
    }
  }

  /**
   * Kills sshd and every session process it forked — a host crash, no goodbye to clients. Each
   * connection's sshd calls setsid(), so the process group is not enough: walk the process tree.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    for (const pid of [child.pid, ...descendantsOf(child.pid)]) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
    await exited;
    this.child = undefined;
  }

  acceptedLogins(): number {
    return this.log.split('\n').filter((l) => l.includes('Accepted publickey for root')).length;
  }

  /** Our established client connections to this sshd, as the kernel sees them. */
  establishedConnections(): number {
    const out = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${this.port} )`], { encoding: 'utf8' });
    return out.split('\n').filter((l) => l.trim() !== '').length;
  }

  async tearDown(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe.skipIf(!canRun)('SshPool against a loopback sshd', () => {
  const sshd = new LoopbackSshd();
  const pools: SshPool[] = [];
  const newPool = (options: ConstructorParameters<typeof SshPool>[0] = {}) => {
    const pool = new SshPool(options);
    pools.push(pool);
    return pool;
  };
  const target = (overrides: Partial<SshSettings> = {}): SshTarget => ({
    name: 'loop1',
    host: '127.0.0.1',
    ssh: {
      ...SshSettings.parse({}),
      port: sshd.port,
      privateKeyPath: sshd.clientKey,
      knownHostsPath: sshd.knownHosts,
      connectTimeout: 3_000,
      commandTimeout: 10_000,
      ...overrides,
    },
  });
  const errorOf = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected a rejection'); }, (err: unknown) => {
    expect(err).toBeInstanceOf(VipbotError);
    return err as VipbotError;
  });

  beforeAll(async () => {
    await sshd.setUp();
  }, 30_000);

  afterEach(async () => {
    // Each test counts connections with `ss`: no pool may outlive its test.
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await sshd.tearDown();
  });

  it('runs a command and returns exit code and stdout', async () => {
    const pool = newPool();
    const file = join(sshd.dir, 'keepalived.conf');
    writeFileSync(file, 'global_defs {\n  router_id node1\n}\n');
    expect(await pool.run(target(), readConfig(file))).toEqual({ code: 0, stdout: 'global_defs {\n  router_id node1\n}\n', stderr: '', durationMs: expect.any(Number) });
    const addresses = await pool.run(target(), listAddresses());
    expect(addresses.code).toBe(0);
    expect(addresses.stdout).toMatch(/^\d+: lo +inet 127\.0\.0\.1\/8 /m);
  });

  it('returns a non-zero exit as a result', async () => {
    const pool = newPool();
    const missing = await pool.run(target(), readConfig(join(sshd.dir, 'no-such.conf')));
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toContain('No such file or directory');
    expect(await pool.run(target(), runTrackScript(undefined, ['/usr/bin/test', '-e', '/nonexistent']))).toMatchObject({ code: 1 });
    expect(await pool.run(target(), runTrackScript(undefined, ['/no/such/script']))).toMatchObject({ code: 127 });
  });

  it('runs a track script as its vrrp_script user', async () => {
    const pool = newPool();
    expect(await pool.run(target(), runTrackScript('nobody', ['/usr/bin/id', '-un']))).toMatchObject({ code: 0, stdout: 'nobody\n' });
    expect(await pool.run(target(), runTrackScript(undefined, ['/usr/bin/id', '-un']))).toMatchObject({ code: 0, stdout: 'root\n' });
  });

  it('stages, backs up and installs a config through stdin and argv only', async () => {
    const pool = newPool();
    const conf = join(sshd.dir, 'ka', 'keepalived.conf');
    mkdirSync(join(sshd.dir, 'ka'), { recursive: true });
    writeFileSync(conf, 'old\n');
    chmodSync(conf, 0o640);
    const staging = `${conf}.vipbot-new`;
    const backup = `${conf}.vipbot-backup`;
    const text = "vrrp_instance VI_1 {\n  priority 150   # it's $(not) `run`; \"quoted\"\n}\n";
    for (const cmd of [backupConfig(conf, backup), stageConfig(staging, text), ...copyOwnerMode(conf, staging), installConfig(staging, conf)]) {
      expect(await pool.run(target(), cmd), cmd.id).toMatchObject({ code: 0, stderr: '' });
    }
    expect(readFileSync(conf, 'utf8')).toBe(text);
    expect(readFileSync(backup, 'utf8')).toBe('old\n');
    expect(statSync(conf).mode & 0o777).toBe(0o640);
    expect(existsSync(staging)).toBe(false);
  });

  it('concurrent runs share one connection (and one login)', async () => {
    const pool = newPool({ maxChannelsPerConnection: 8 });
    const loginsBefore = sshd.acceptedLogins();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(target(), runTrackScript(undefined, ['/usr/bin/echo', `run-${i}`]))));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `run-${i}\n`));
    expect(pool.stats()).toMatchObject({ connections: 1, connectAttempts: 1, activeChannels: 0, queued: 0 });
    await sleep(100); // sshd logs the login asynchronously
    expect(sshd.acceptedLogins() - loginsBefore).toBe(1);
    expect(sshd.establishedConnections()).toBe(1);
    await pool.close();
    expect(sshd.establishedConnections()).toBe(0);
  });

  it('refuses an unknown host key with the fingerprint and the ssh-keyscan advice', async () => {
    const pool = newPool();
    const empty = join(sshd.dir, 'known_hosts.empty');
    writeFileSync(empty, '# nothing here\n');
    const err = await errorOf(pool.run(target({ knownHostsPath: empty }), listAddresses()));
    expect(err.code).toBe('ssh_host_key_unknown');
    expect(err.message).toContain(sshd.hostFingerprint());
    expect(err.advice).toBe(`add it with: ssh-keyscan -p ${sshd.port} -t ed25519 127.0.0.1 >> ${empty} (check the fingerprint first)`);
  });

  it('refuses a client key the host does not authorize', async () => {
    const pool = newPool();
    const err = await errorOf(pool.run(target({ privateKeyPath: sshd.strangerKey }), listAddresses()));
    expect(err.code).toBe('ssh_auth_failed');
  });

  it('the host-side timeout kills a hung command', async () => {
    const pool = newPool();
    const started = Date.now();
    // A distinctive duration, so the check below finds only this test's sleep.
    const err = await errorOf(pool.run(target({ commandTimeout: 1_000 }), runTrackScript(undefined, ['/bin/sleep', '37.25'])));
    const elapsed = Date.now() - started;
    expect(err.code).toBe('ssh_command_timeout');
    expect(err.message).toContain('host-side timeout, exit 124');
    expect(elapsed).toBeLessThan(3_000); // well before the client-side guard (1 s + 5 s)
    let left = '';
    try {
      left = execFileSync('pgrep', ['-f', '^/bin/sleep 37.25$'], { encoding: 'utf8' });
    } catch {
      // pgrep exits 1 when nothing matches
    }
    expect(left).toBe('');
  });

  it('a listener that never speaks SSH fails within connectTimeout (+1 s at most)', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const pool = newPool();
      const started = Date.now();
      const err = await errorOf(pool.run(target({ port, connectTimeout: 1_000 }), listAddresses()));
      const elapsed = Date.now() - started;
      expect(err.code).toBe('ssh_connect_timeout');
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(2_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  // A host whose packets are dropped, on loopback: a listener with a full accept queue makes Linux
  // drop further SYNs, so the TCP connect itself hangs (Node's own servers always accept, hence python).
  it.skipIf(!existsSync('/usr/bin/python3'))('a host that drops SYNs fails within connectTimeout (+1 s at most)', async () => {
    const listener = spawn('/usr/bin/python3', ['-c', [
      'import socket, sys, time',
      's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
      'print(s.getsockname()[1], flush=True)',
      'sys.stdin.read()',
    ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const filler: Socket[] = [];
    try {
      const port = await new Promise<number>((resolve, reject) => {
        listener.stdout?.setEncoding('utf8').once('data', (line: string) => resolve(Number(line.trim())));
        listener.once('exit', () => reject(new Error('python listener exited')));
      });
      // Fill the one-slot accept queue; the listener never accepts.
      await new Promise<void>((resolve) => filler.push(createConnection(port, '127.0.0.1', resolve)));
      const pool = newPool();
      const started = Date.now();
      const err = await errorOf(pool.run(target({ port, connectTimeout: 1_000 }), listAddresses()));
      const elapsed = Date.now() - started;
      expect(err.code).toBe('ssh_connect_timeout');
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(2_000);
    } finally {
      for (const socket of filler) socket.destroy();
      listener.stdin?.end(); // EOF ends the python listener
      if (listener.exitCode === null) await new Promise((resolve) => listener.once('exit', resolve));
    }
  });

  it('a port nobody listens on fails fast with ssh_connect_failed', async () => {
    const pool = newPool();
    const started = Date.now();
    const err = await errorOf(pool.run(target({ port: await freePort() }), listAddresses()));
    expect(err.code).toBe('ssh_connect_failed');
    expect(err.message).toContain('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('idle connections expire after ssh.idleTimeout and the next run reconnects', async () => {
    const pool = newPool();
    await pool.run(target({ idleTimeout: 300 }), listAddresses());
    expect(pool.stats().connections).toBe(1);
    expect(sshd.establishedConnections()).toBe(1);
    await sleep(700);
    expect(pool.stats().connections).toBe(0);
    expect(sshd.establishedConnections()).toBe(0);
    expect((await pool.run(target({ idleTimeout: 300 }), listAddresses())).code).toBe(0);
    expect(pool.stats().connectAttempts).toBe(2);
  });

  it('a killed sshd does not crash the process; the next run reconnects once it is back', async () => {
    const pool = newPool();
    const errors: unknown[] = [];
    const onUncaught = (err: unknown) => errors.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      await pool.run(target(), listAddresses());
      // Observe the outcome before the kill: the rejection may land while kill() is still awaited.
      const running = errorOf(pool.run(target(), runTrackScript(undefined, ['/bin/sleep', '5'])));
      await sleep(300);
      await sshd.kill('SIGKILL');
      const lost = await running;
      expect(lost.code).toBe('ssh_connection_lost');
      await sleep(100);
      expect(pool.stats().connections).toBe(0);
      expect((await errorOf(pool.run(target(), listAddresses()))).code).toBe('ssh_connect_failed');
      await sshd.start();
      expect((await pool.run(target(), listAddresses())).code).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('prints the latency of one command on an open vs a fresh connection', async () => {
    const samples = async (fresh: boolean, n: number) => {
      const times: number[] = [];
      const warmPool = newPool();
      if (!fresh) await warmPool.run(target(), listAddresses());
      for (let i = 0; i < n; i++) {
        const pool = fresh ? newPool() : warmPool;
        const started = performance.now();
        await pool.run(target(), listAddresses());
        times.push(performance.now() - started);
        if (fresh) await pool.close();
      }
      times.sort((a, b) => a - b);
      return { median: times[Math.floor(n / 2)]!, min: times[0]!, max: times[n - 1]! };
    };
    const open = await samples(false, 15);
    const fresh = await samples(true, 7);
    const fmt = (s: { median: number; min: number; max: number }) => `median ${s.median.toFixed(1)} ms (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})`;
    console.log(`[ssh-pool] loopback \`ip -o addr show\`: open connection ${fmt(open)}; fresh connection ${fmt(fresh)}`);
    expect(open.median).toBeLessThan(fresh.median);
  });

  // Last: it replaces the host key.
  it('refuses a changed host key (host rebuilt), and accepts it once known_hosts is updated', async () => {
    const pool = newPool();
    await pool.run(target(), listAddresses());
    await pool.close();
    await sshd.kill('SIGTERM');
    sshd.keygen(sshd.hostKey);
    await sshd.start();
    const pool2 = newPool();
    const err = await errorOf(pool2.run(target(), listAddresses()));
    expect(err.code).toBe('ssh_host_key_changed');
    expect(err.message).toBe(`SSH host key for loop1 (127.0.0.1:${sshd.port}) does not match ${sshd.knownHosts} line 2 (presented ssh-ed25519 ${sshd.hostFingerprint()})`);
    expect(err.advice).toMatch(/^if the host was rebuilt, update the file/);
    sshd.trustCurrentHostKey();
    expect((await pool2.run(target(), listAddresses())).code).toBe(0);
  });
});

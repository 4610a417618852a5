/**
 * The only place that talks SSH. One connection per (user, host, port) — plus key and known_hosts
 * paths, which are the same in practice — shared by concurrent commands as SSH channels.
 *
 * Failure rules:
 * - a non-zero exit is a result (`code`), never an exception: track scripts answer with exit codes;
 * - anything that keeps the command from running or finishing is a coded `VipbotError`
 *   (`ssh_connect_timeout`, `ssh_connect_failed`, `ssh_auth_failed`, `ssh_host_key_*`,
 *   `ssh_command_timeout`, `ssh_connection_lost`, …) whose advice says what to do;
 * - a dropped host never crashes the process: every connection has `error`/`close` listeners, dead
 *   connections leave the pool, and the next `run` reconnects.
 */
import { readFile, stat } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import type { ResolvedNode, SshSettings } from '../config/config.ts';
import { VipbotError } from '../errors.ts';
import { mapWithConcurrency, type Settled } from './fan-out.ts';
import { hostKeyError, knownKeyTypes, orderHostKeyAlgorithms, parseKnownHosts, verifyHostKey, type HostKeyVerdict, type KnownHosts } from './known-hosts.ts';
import { formatCommand, isIssuedCommand, timeoutSeconds, wrapCommand, type CommandId, type NodeCommand } from './node-commands.ts';

/** Where a command runs: a node's name (for messages), its address, and its resolved ssh settings. */
export interface SshTarget {
  name: string;
  host: string;
  ssh: SshSettings;
}

/** The pool's view of a configured node. */
export function sshTargetFor(node: Pick<ResolvedNode, 'node' | 'ssh'>): SshTarget {
  return { name: node.node.name, host: node.node.host, ssh: node.ssh };
}

/** What a command did. A non-zero `code` is an answer, not a failure of the pool. */
export interface CommandResult {
  /** Exit status; null when the process died by a signal (then `signal` says which). */
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  /** From asking for a channel to the channel closing (excludes connecting and queueing). */
  durationMs: number;
}

/** Per-command metrics hook payload. */
export interface CommandEvent {
  node: string;
  host: string;
  id: CommandId;
  /** Whole `run`, including connecting and queueing. */
  durationMs: number;
  code: number | null;
  /** The VipbotError code when the command did not produce a result. */
  error?: string;
}

/** Per-connection-attempt metrics hook payload. */
export interface ConnectEvent {
  node: string;
  host: string;
  port: number;
  durationMs: number;
  error?: string;
}

/** The pino methods the pool uses; pass `log.child({ component: 'ssh' })`. */
export interface PoolLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** The parts of an ssh2 `Client` the pool touches (ssh2 ships no types here). */
export interface SshConnectionLike {
  on(event: 'close' | 'end', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  end(): unknown;
  setMaxListeners?(n: number): unknown;
  setNoDelay?(noDelay: boolean): unknown;
}

/** The parts of an ssh2 `ClientChannel` the pool touches. */
export interface SshChannelLike {
  on(event: 'exit', listener: (code: number | null, signal?: string) => void): unknown;
  close(): unknown;
}

/** The node-ssh surface the pool uses; tests substitute a fake through `SshPoolOptions.createClient`. */
export interface SshClientLike {
  connection: SshConnectionLike | null;
  connect(config: Record<string, unknown>): Promise<unknown>;
  execCommand(
    command: string,
    options: {
      stdin?: string;
      noTrim?: boolean;
      onChannel?: (channel: SshChannelLike) => void;
      onStdout?: (chunk: Buffer) => void;
      onStderr?: (chunk: Buffer) => void;
    },
  ): Promise<{ code: number | null; signal: string | null }>;
  dispose(): void;
}

/** Pool tuning; every field has a default that suits a handful of clusters. */
export interface SshPoolOptions {
  /** Close a connection this long after its last command (default 60 s). */
  idleTimeoutMs?: number;
  /** Channels in flight per connection; more wait in a queue. sshd's MaxSessions defaults to 10 (default 8). */
  maxChannelsPerConnection?: number;
  /** SSH keepalive so a host that vanished is noticed on an idle connection (default 10 s, 3 misses). */
  keepaliveIntervalMs?: number;
  /** Client-side guard = commandTimeout + this, in case the host-side `timeout` cannot act (default 5 s). */
  clientGraceMs?: number;
  /** Per stream; beyond it the command is stopped (default 8 MiB; keepalived.conf is a few kB). */
  maxOutputBytes?: number;
  /** Parallel handshakes in `warm` (default 8). */
  warmConcurrency?: number;
  onCommand?(info: CommandEvent): void;
  onConnect?(info: ConnectEvent): void;
  logger?: PoolLogger;
  /** Test seam: build the client (default `new NodeSSH()`). */
  createClient?: () => SshClientLike;
}

/** Counters for tests and /metrics. */
export interface PoolStats {
  /** Open connections in the pool. */
  connections: number;
  /** Connection attempts started since the pool was created. */
  connectAttempts: number;
  /** Channels in flight across all connections. */
  activeChannels: number;
  /** Commands waiting for a channel. */
  queued: number;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

interface Connection {
  key: string;
  client: SshClientLike;
  raw: SshConnectionLike;
  active: number;
  waiters: Waiter[];
  alive: boolean;
  /** No new commands; closes when the last one finishes. */
  retired: boolean;
  idleTimer?: NodeJS.Timeout;
  /** How long an unused connection stays open (ssh.idleTimeout of the node, else the pool default). */
  idleMs: number;
  /** Resolves once the underlying socket has closed. */
  closed: Promise<void>;
}

/** The command never reached the host (connection gone before the channel opened): safe to retry. */
class NotStarted extends Error {}

const DEFAULTS = {
  idleTimeoutMs: 60_000,
  maxChannelsPerConnection: 8,
  keepaliveIntervalMs: 10_000,
  clientGraceMs: 5_000,
  maxOutputBytes: 8 * 1024 * 1024,
  warmConcurrency: 8,
};

/** A pool of SSH connections that runs documented node commands. Create one per process; `close()` on shutdown. */
export class SshPool {
  private readonly options: typeof DEFAULTS & SshPoolOptions;
  private readonly connections = new Map<string, Connection>();
  private readonly connecting = new Map<string, Promise<Connection>>();
  private readonly knownHostsCache = new FileCache<KnownHosts>();
  private readonly keyCache = new FileCache<string>();
  private connectAttempts = 0;
  private closing = false;

  constructor(options: SshPoolOptions = {}) {
    this.options = { ...DEFAULTS, ...stripUndefined(options) };
  }

  /**
   * Runs one documented command on a node. Resolves with the exit status and output (non-zero exit
   * included); rejects with a coded VipbotError when the command could not run or finish.
   */
  async run(target: SshTarget, cmd: NodeCommand, opts: { signal?: AbortSignal } = {}): Promise<CommandResult> {
    const started = performance.now();
    const { signal } = opts;
    let result: CommandResult | undefined;
    let error: unknown;
    try {
      // Checks that cmd was issued by node-commands.ts before anything touches the network.
      const command = wrapCommand(cmd, { sudo: target.ssh.sudo, timeoutMs: target.ssh.commandTimeout });
      result = await this.runWithRetry(target, cmd, command, signal);
      return result;
    } catch (err) {
      error = err;
      throw err;
    } finally {
      const durationMs = performance.now() - started;
      this.options.logger?.debug({ node: target.name, host: target.host, command: cmd.id, durationMs: Math.round(durationMs), code: result?.code, error: errorCode(error) }, 'node command');
      safeHook(() => this.options.onCommand?.({ node: target.name, host: target.host, id: cmd.id, durationMs, code: result?.code ?? null, ...(error !== undefined ? { error: errorCode(error) } : {}) }));
    }
  }

  /** Opens connections ahead of use (e.g. at start-up, or before a fan-out); never throws. */
  async warm(targets: readonly SshTarget[], signal?: AbortSignal): Promise<Settled<void>[]> {
    return mapWithConcurrency(targets, this.options.warmConcurrency, async (target) => {
      const conn = await this.getConnection(target, signal);
      if (conn.active === 0) this.scheduleIdle(conn);
    }, signal);
  }

  /** Counters for tests and metrics. */
  stats(): PoolStats {
    let activeChannels = 0;
    let queued = 0;
    for (const conn of this.connections.values()) {
      activeChannels += conn.active;
      queued += conn.waiters.length;
    }
    return { connections: this.connections.size, connectAttempts: this.connectAttempts, activeChannels, queued };
  }

  /** Ends every connection (waiting up to 2 s for each to close); later `run` calls are refused. */
  async close(): Promise<void> {
    this.closing = true;
    const pending = [...this.connecting.values()].map((p) => p.then(() => undefined, () => undefined));
    const conns = [...this.connections.values()];
    this.connections.clear();
    for (const conn of conns) this.endConnection(conn, poolClosedError());
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, 3_000).unref());
    await Promise.race([Promise.all([...pending, ...conns.map((c) => c.closed)]), deadline]);
  }

  // -------------------------------------------------------------------------------------------

  private async runWithRetry(target: SshTarget, cmd: NodeCommand, command: string, signal: AbortSignal | undefined): Promise<CommandResult> {
    // A pooled connection can die between commands (host rebooted, sshd restarted). When the command
    // never reached the host, running it on a fresh connection is safe even for mutating commands.
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal, target, cmd);
      const conn = await this.getConnection(target, signal);
      try {
        await this.acquireChannel(conn, signal, target, cmd);
      } catch (err) {
        if (err instanceof NotStarted && attempt < 2) continue;
        throw this.translateRunError(err, target, cmd);
      }
      try {
        return await this.execute(conn, target, cmd, command, signal);
      } catch (err) {
        if (err instanceof NotStarted && attempt < 2) continue;
        throw this.translateRunError(err, target, cmd);
      }
    }
  }

  private translateRunError(err: unknown, target: SshTarget, cmd: NodeCommand): unknown {
    if (!(err instanceof NotStarted)) return err;
    return new VipbotError(
      'ssh_connection_lost',
      `the SSH connection to ${target.name} (${target.host}) dropped before ${cmd.id} could start`,
      'the host may be rebooting or the network dropped; try again in a minute',
      { cause: err.cause },
    );
  }

  private connectionKey(target: SshTarget): string {
    const { user, port, privateKeyPath, knownHostsPath } = target.ssh;
    return `${user}@${target.host}:${port}|${privateKeyPath}|${knownHostsPath}`;
  }

  private async getConnection(target: SshTarget, signal?: AbortSignal): Promise<Connection> {
    if (this.closing) throw poolClosedError();
    const key = this.connectionKey(target);
    const existing = this.connections.get(key);
    if (existing && existing.alive && !existing.retired) return existing;
    let pending = this.connecting.get(key);
    if (!pending) {
      // One handshake for every concurrent caller of a not-yet-connected host.
      pending = this.connect(target, key).finally(() => this.connecting.delete(key));
      pending.catch(() => undefined); // callers that gave up (abort) must not leave it unhandled
      this.connecting.set(key, pending);
    }
    return raceAbort(pending, signal, () => abortedError(target));
  }

  private async connect(target: SshTarget, key: string): Promise<Connection> {
    const { host } = target;
    const { port, user, connectTimeout, knownHostsPath, privateKeyPath } = target.ssh;
    const started = performance.now();
    this.connectAttempts++;
    let presented: Buffer | undefined;
    let verdict: HostKeyVerdict | undefined;
    let client: SshClientLike | undefined;
    try {
      const knownHosts = await this.knownHostsCache.load(knownHostsPath, parseKnownHosts).catch((err: unknown) => {
        throw new VipbotError('ssh_known_hosts_unreadable', `cannot read the known_hosts file ${knownHostsPath} (${describeFsError(err)}), so no host key can be verified`, `create it with: ssh-keyscan -t ed25519 ${host} >> ${knownHostsPath} (check the fingerprint first), or set ssh.knownHostsPath`, { cause: err });
      });
      const privateKey = await this.keyCache.load(privateKeyPath, (text) => text).catch((err: unknown) => {
        throw new VipbotError('ssh_private_key_unreadable', `cannot read the SSH private key ${privateKeyPath} (${describeFsError(err)})`, 'set ssh.privateKeyPath to the bot\'s key file, readable by the bot\'s user', { cause: err });
      });
      client = this.options.createClient?.() ?? (new NodeSSH() as unknown as SshClientLike);
      const connecting = client.connect({
        host,
        port,
        username: user,
        privateKey,
        // ssh2's readyTimeout spans TCP connect, handshake and auth: exactly "connectTimeout".
        readyTimeout: connectTimeout,
        keepaliveInterval: this.options.keepaliveIntervalMs,
        keepaliveCountMax: 3,
        algorithms: { serverHostKey: orderHostKeyAlgorithms(knownKeyTypes(knownHosts, host, port)) },
        hostVerifier: (keyBlob: Buffer): boolean => {
          presented = Buffer.from(keyBlob);
          verdict = verifyHostKey(knownHosts, host, port, presented);
          return verdict.ok;
        },
      });
      // Our own guard in case ssh2's timer does not cover a stage; never trust a library to not hang.
      await withTimeout(connecting, connectTimeout + 1_000, () => connectTimeoutError(target));
      const raw = client.connection;
      if (!raw) throw new NotStarted('the connection closed right after the handshake');
      // ssh2 leaves Nagle on: each small request on a pooled connection then waits for a delayed ACK
      // (about 40 ms per command measured on the lab); commands are small and latency is the point.
      raw.setNoDelay?.(true);
      const conn = this.adopt(key, client, raw, target);
      if (this.closing) {
        this.endConnection(conn, poolClosedError());
        throw poolClosedError();
      }
      safeHook(() => this.options.onConnect?.({ node: target.name, host, port, durationMs: performance.now() - started }));
      this.options.logger?.debug({ node: target.name, host, port, user, durationMs: Math.round(performance.now() - started) }, 'ssh connected');
      return conn;
    } catch (err) {
      if (client) hardClose(client);
      const mapped = verdict && !verdict.ok && presented
        ? hostKeyError(verdict, { node: target.name, host, port, knownHostsPath, keyBlob: presented })
        : mapConnectError(err, target);
      safeHook(() => this.options.onConnect?.({ node: target.name, host, port, durationMs: performance.now() - started, error: mapped.code }));
      this.options.logger?.warn({ node: target.name, host, port, user, error: mapped.code }, mapped.message);
      throw mapped;
    }
  }

  /** Wraps a ready client: listeners first, so a later drop is an event, never an uncaught 'error'. */
  private adopt(key: string, client: SshClientLike, raw: SshConnectionLike, target: SshTarget): Connection {
    let markClosed!: () => void;
    const conn: Connection = { key, client, raw, active: 0, waiters: [], alive: true, retired: false, idleMs: target.ssh.idleTimeout ?? this.options.idleTimeoutMs, closed: new Promise<void>((resolve) => (markClosed = resolve)) };
    raw.setMaxListeners?.(4 * this.options.maxChannelsPerConnection);
    raw.on('error', (err: Error) => {
      // Keepalive timeouts and socket resets land here; 'close' follows and does the cleanup.
      this.options.logger?.warn({ node: target.name, host: target.host, err: err.message }, 'ssh connection error');
    });
    raw.on('close', () => {
      this.forget(conn, new NotStarted('the SSH connection closed'));
      markClosed();
    });
    this.connections.set(key, conn);
    this.scheduleIdle(conn);
    return conn;
  }

  /** Marks a connection dead, removes it from the pool and sends its queue elsewhere. */
  private forget(conn: Connection, reason: Error): void {
    conn.alive = false;
    clearTimeout(conn.idleTimer);
    if (this.connections.get(conn.key) === conn) this.connections.delete(conn.key);
    for (const waiter of conn.waiters.splice(0)) waiter.reject(reason);
  }

  private endConnection(conn: Connection, reason: Error): void {
    this.forget(conn, reason);
    conn.client.dispose();
    // If the peer never answers our disconnect, drop the socket so close() cannot hang.
    const timer = setTimeout(() => hardClose(conn.client, conn.raw), 2_000);
    timer.unref();
    void conn.closed.then(() => clearTimeout(timer));
  }

  private retire(conn: Connection): void {
    conn.retired = true;
    if (this.connections.get(conn.key) === conn) this.connections.delete(conn.key);
    // Queued commands have not started: they go to a fresh connection instead.
    for (const waiter of conn.waiters.splice(0)) waiter.reject(new NotStarted('connection retired'));
    if (conn.active === 0) this.endConnection(conn, new NotStarted('connection retired'));
  }

  private scheduleIdle(conn: Connection): void {
    clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => {
      if (conn.active === 0 && conn.waiters.length === 0) this.retire(conn);
    }, conn.idleMs);
    conn.idleTimer.unref();
  }

  private async acquireChannel(conn: Connection, signal: AbortSignal | undefined, target: SshTarget, cmd: NodeCommand): Promise<void> {
    if (!conn.alive) throw new NotStarted('the SSH connection closed');
    clearTimeout(conn.idleTimer);
    if (conn.active < this.options.maxChannelsPerConnection) {
      conn.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = conn.waiters.indexOf(waiter);
        if (index >= 0) conn.waiters.splice(index, 1);
        reject(abortedError(target, cmd));
      };
      // The slot is handed over by releaseChannel: `active` stays counted for the new owner.
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      conn.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaseChannel(conn: Connection): void {
    const next = conn.waiters.shift();
    if (next && conn.alive) {
      next.resolve();
      return;
    }
    conn.active--;
    if (conn.active > 0) return;
    if (conn.retired || !conn.alive) this.endConnection(conn, new NotStarted('connection retired'));
    else this.scheduleIdle(conn);
  }

  private execute(conn: Connection, target: SshTarget, cmd: NodeCommand, command: string, signal: AbortSignal | undefined): Promise<CommandResult> {
    const guardMs = target.ssh.commandTimeout + this.options.clientGraceMs;
    const limit = this.options.maxOutputBytes;
    return new Promise<CommandResult>((resolve, reject) => {
      const started = performance.now();
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const sizes = { out: 0, err: 0 };
      let channel: SshChannelLike | undefined;
      let exited = false;
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        clearTimeout(openGuard);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const stop = (err: Error) => settle(() => {
        reject(err);
        channel?.close();
      });
      const guard = setTimeout(() => {
        // The host-side `timeout` should have ended it long ago: the connection is likely dead, so
        // new commands get a fresh one while this one is abandoned.
        this.retire(conn);
        stop(commandTimeoutError(target, cmd, `no answer within ${Math.round(guardMs / 1000)}s (client-side guard; the connection is being replaced)`));
      }, guardMs);
      // A pooled connection to a host that vanished (cable cut, host frozen) takes no new channel and
      // says nothing: opening a channel is a round trip, so no answer within connectTimeout means
      // the host is unreachable now. Fail within the same bound a fresh connect has, never hang.
      const openGuard = setTimeout(() => {
        if (channel || settled) return;
        this.retire(conn);
        stop(new VipbotError(
          'ssh_connect_timeout',
          `${target.name} (${target.host}) stopped answering: no reply on its open SSH connection within ${Math.round(target.ssh.connectTimeout / 1000)}s`,
          'the host or the network to it is down; check it from the console or its management interface',
        ));
      }, target.ssh.connectTimeout);
      const onAbort = () => stop(abortedError(target, cmd));
      signal?.addEventListener('abort', onAbort, { once: true });
      const collect = (into: Buffer[], stream: 'out' | 'err') => (chunk: Buffer) => {
        sizes[stream] += chunk.length;
        if (sizes[stream] > limit) {
          stop(new VipbotError('ssh_output_too_large', `${cmd.id} on ${target.name} printed more than ${limit} bytes; stopped`, 'this is not what a keepalived host prints; check the host'));
          return;
        }
        into.push(Buffer.from(chunk));
      };
      const execution = conn.client.execCommand(command, {
        ...(cmd.stdin !== undefined ? { stdin: cmd.stdin } : {}),
        noTrim: true,
        onChannel: (ch) => {
          channel = ch;
          clearTimeout(openGuard);
          ch.on('exit', () => {
            exited = true;
          });
          if (settled) ch.close();
        },
        onStdout: collect(stdout, 'out'),
        onStderr: collect(stderr, 'err'),
      });
      // The channel slot is free only once the channel has really closed.
      execution.then(() => this.releaseChannel(conn), () => this.releaseChannel(conn));
      execution.then(
        (res) => settle(() => {
          if (!exited && !conn.alive) {
            reject(channel ? connectionLostError(target, cmd) : new NotStarted('the SSH connection closed'));
            return;
          }
          const result: CommandResult = {
            code: res.code,
            ...(res.signal ? { signal: res.signal } : {}),
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
            durationMs: performance.now() - started,
          };
          const problem = interpretResult(result, target, cmd);
          if (problem) reject(problem);
          else resolve(result);
        }),
        (err: unknown) => settle(() => {
          if (channel) reject(connectionLostError(target, cmd, err));
          else if (isChannelRefusal(err)) reject(new VipbotError('ssh_channel_refused', `${target.name} (${target.host}) refused a new SSH session for ${cmd.id}: ${(err as Error).message}`, 'raise MaxSessions in the host\'s sshd_config, or lower the pool\'s maxChannelsPerConnection', { cause: err }));
          else {
            // The connection could not open a channel (closing, or wedged): the retry needs a new one.
            this.retire(conn);
            reject(new NotStarted((err as Error)?.message ?? 'exec failed', { cause: err }));
          }
        }),
      );
    });
  }
}

// ---------------------------------------------------------------------------------------------

/** Exit codes that are not answers: the host-side timeout fired, or sudo refused the command. */
function interpretResult(result: CommandResult, target: SshTarget, cmd: NodeCommand): VipbotError | undefined {
  // GNU timeout: 124 after SIGTERM, 128+9 when it had to SIGKILL (--kill-after).
  if (result.code === 124 || result.code === 137) {
    return commandTimeoutError(target, cmd, `did not finish within ${timeoutSeconds(target.ssh.commandTimeout)}s (host-side timeout, exit ${result.code})`);
  }
  if (target.ssh.sudo && result.code === 1 && /^sudo: .*(password is required|not allowed to execute|may not run|not in the sudoers|a terminal is required)/m.test(result.stderr)) {
    const line = result.stderr.split('\n').find((l) => l.startsWith('sudo: ')) ?? '';
    return new VipbotError('ssh_sudo_denied', `sudo refused ${formatCommand(cmd)} on ${target.name} (${target.host}): ${line.slice(6)}`, `install vipbot's sudoers example for user ${target.ssh.user} on the host (it allows exactly the node commands), or set ssh.sudo: false and connect as root`);
  }
  return undefined;
}

function commandTimeoutError(target: SshTarget, cmd: NodeCommand, detail: string): VipbotError {
  return new VipbotError('ssh_command_timeout', `${cmd.id} on ${target.name} (${target.host}) ${detail}`, 'the host may be overloaded or the command hung (a track script waiting on the database?); raise ssh.commandTimeout only if it is just slow');
}

function connectionLostError(target: SshTarget, cmd: NodeCommand, cause?: unknown): VipbotError {
  return new VipbotError('ssh_connection_lost', `the SSH connection to ${target.name} (${target.host}) dropped while ${cmd.id} was running; its outcome is unknown`, cmd.mutates ? 'check the host before trying again: the change may or may not have happened' : 'try again; the host may be rebooting or the network dropped', cause === undefined ? undefined : { cause });
}

function connectTimeoutError(target: SshTarget): VipbotError {
  return new VipbotError('ssh_connect_timeout', `could not connect to ${target.name} (${target.host}:${target.ssh.port}) within ${Math.round(target.ssh.connectTimeout / 100) / 10}s`, `check that the host is up and that port ${target.ssh.port} is reachable from the bot (firewall, routing); ssh.connectTimeout sets the limit`);
}

function abortedError(target: SshTarget, cmd?: NodeCommand): VipbotError {
  return new VipbotError('ssh_aborted', `${cmd ? `${cmd.id} on ` : 'connecting to '}${target.name} was cancelled`, 'the job was cancelled or ran out of time; run it again if still needed');
}

function poolClosedError(): VipbotError {
  return new VipbotError('ssh_pool_closed', 'the SSH pool is shutting down', 'the bot is stopping; try again once it is back');
}

/** ssh2/node-ssh connect failures → coded errors. Host-key refusals are handled before this. */
function mapConnectError(err: unknown, target: SshTarget): VipbotError {
  if (err instanceof VipbotError) return err;
  const e = err as (Error & { level?: string; code?: string }) | undefined;
  const message = e?.message ?? String(err);
  const where = `${target.name} (${target.host}:${target.ssh.port})`;
  if (e?.level === 'client-timeout' || e?.code === 'ETIMEDOUT') return Object.assign(connectTimeoutError(target), { cause: err });
  if (e?.level === 'client-authentication') {
    return new VipbotError('ssh_auth_failed', `${where} refused the key ${target.ssh.privateKeyPath} for user ${target.ssh.user}`, `add its public key (ssh-keygen -y -f ${target.ssh.privateKeyPath}) to ~${target.ssh.user}/.ssh/authorized_keys on the host, or fix ssh.user`, { cause: err });
  }
  if (/privateKey|private key|passphrase/i.test(message)) {
    return new VipbotError('ssh_private_key_unreadable', `the SSH private key ${target.ssh.privateKeyPath} cannot be used: ${message}`, 'use an unencrypted OpenSSH or PEM key (vipbot has no passphrase setting)', { cause: err });
  }
  const hints: Record<string, string> = {
    ECONNREFUSED: 'connection refused: is sshd running and listening on that port?',
    EHOSTUNREACH: 'no route to the host: check the address and routing',
    ENETUNREACH: 'network unreachable: check the address and routing',
    ENOTFOUND: 'the name does not resolve: check the host in vipbot.yaml and DNS',
    EAI_AGAIN: 'DNS did not answer: check the resolver',
    ECONNRESET: 'the connection was reset: check sshd\'s MaxStartups, tcp wrappers or fail2ban on the host',
  };
  const hint = (e?.code && hints[e.code]) || (/before handshake|No response from server/i.test(message) ? 'the server closed the connection before the SSH handshake finished: check sshd\'s MaxStartups, tcp wrappers or fail2ban' : undefined);
  return new VipbotError('ssh_connect_failed', `could not connect to ${where}: ${message}`, hint ?? 'check the host, the port and sshd on it', { cause: err });
}

function isChannelRefusal(err: unknown): boolean {
  return err instanceof Error && /Channel open failure/i.test(err.message);
}

function errorCode(err: unknown): string | undefined {
  if (err === undefined) return undefined;
  return err instanceof VipbotError ? err.code : 'ssh_error';
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return code ?? (err as Error)?.message ?? String(err);
}

function safeHook(fn: () => void): void {
  try {
    fn();
  } catch {
    // A metrics bug must never fail a command.
  }
}

function throwIfAborted(signal: AbortSignal | undefined, target: SshTarget, cmd: NodeCommand): void {
  if (signal?.aborted) throw abortedError(target, cmd);
}

/** Drops the socket without the polite disconnect: for failed handshakes and unresponsive peers. */
function hardClose(client: SshClientLike, raw?: SshConnectionLike | null): void {
  const conn = (raw ?? client.connection) as (SshConnectionLike & { _sock?: { destroy?(): void } }) | null;
  try {
    client.dispose();
  } catch {
    // already closed
  }
  // ssh2's end() does nothing while the TCP connect is still pending; destroy the socket itself.
  conn?._sock?.destroy?.();
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => Error): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(err);
      },
    );
  });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Re-reads a file only when its mtime, size or inode changed (known_hosts edits, key rotation). */
class FileCache<T> {
  private readonly entries = new Map<string, { stamp: string; value: T }>();

  async load(path: string, parse: (text: string) => T): Promise<T> {
    const info = await stat(path);
    const stamp = `${info.mtimeMs}:${info.size}:${info.ino}`;
    const hit = this.entries.get(path);
    if (hit && hit.stamp === stamp) return hit.value;
    const value = parse(await readFile(path, 'utf8'));
    this.entries.set(path, { stamp, value });
    return value;
  }
}

/**
 * One view of "is Redis answering" for the whole process, so an outage is logged once (warn) and its
 * end once (info). ioredis emits an `error` per reconnect attempt and BullMQ re-emits each one from
 * every Worker and Queue: logged as they come, that was ~5 stack traces a second.
 */
import type { Logger } from '../logger.ts';

/** The ioredis events the tracker listens to (a real `Redis` fits). */
export interface WatchedConnection {
  readonly status: string;
  on(event: 'ready' | 'close' | 'end', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** Network-level failures: these say "Redis is not answering", not "this command was wrong". */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH']);
const CONNECTION_ERROR_TEXT = /connection is closed|stream isn't writeable|command timed out|max retries per request|reached the max retries|socket closed unexpectedly|connect etimedout/i;

export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  return CONNECTION_ERROR_TEXT.test(err.message) || err.name === 'MaxRetriesPerRequestError';
}

/** `host:port` of a redis:// URL, for messages (never the password). */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || '127.0.0.1'}:${u.port || '6379'}`;
  } catch {
    return 'the configured address';
  }
}

/** BullMQ's "Missing key for job …", "Missing lock for job …", "Lock mismatch for job …". */
export function isLostJobState(err: unknown): boolean {
  return err instanceof Error && /^(Missing key|Missing lock|Lock mismatch) for job /.test(err.message);
}

/** Other (non-connection) errors from one source are logged at most this often. */
const OTHER_ERROR_INTERVAL_MS = 60_000;
/** How long a Worker's connection error waits for our connections to confirm an outage. */
const CONFIRM_OUTAGE_MS = 2_000;

export class RedisHealth {
  private readonly notReady = new Set<string>();
  private readonly watched = new Set<string>();
  private outageSince: number | undefined;
  private lastError: string | undefined;
  private stopping = false;
  private readonly otherErrorAt = new Map<string, number>();

  private readonly now: () => number;

  constructor(
    readonly address: string,
    private readonly logger: Pick<Logger, 'warn' | 'info' | 'error'>,
    private readonly options: { now?: () => number; onChange?: (up: boolean) => void } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Follows one connection: a close or error starts an outage, every watched one ready again ends it. */
  watch(name: string, connection: WatchedConnection): void {
    this.watched.add(name);
    if (connection.status !== 'ready') this.notReady.add(name);
    connection.on('ready', () => {
      this.notReady.delete(name);
      if (this.notReady.size === 0) this.endOutage();
    });
    connection.on('close', () => this.markDown(name));
    connection.on('end', () => this.markDown(name));
    connection.on('error', (err) => {
      this.lastError = err.message;
      this.markDown(name);
    });
  }

  /** Whether every watched connection is ready. */
  get up(): boolean {
    return this.notReady.size === 0;
  }

  /** An outage is going on (started after a connection had been up). */
  get down(): boolean {
    return this.outageSince !== undefined;
  }

  /**
   * An `error` event from a BullMQ Worker or Queue: a connection error is part of the outage (logged
   * once with it); anything else is logged, but at most once a minute per source.
   */
  noteError(source: string, err: unknown): void {
    if (this.stopping) return;
    if (isConnectionError(err)) {
      this.lastError = (err as Error).message;
      if (this.down) return;
      // BullMQ's own connections may notice before ours do: part of the outage if ours follow shortly.
      setTimeout(() => {
        if (!this.down && !this.stopping) this.logRateLimited(source, err);
      }, CONFIRM_OUTAGE_MS).unref();
      return;
    }
    this.logRateLimited(source, err);
  }

  private logRateLimited(source: string, err: unknown): void {
    const last = this.otherErrorAt.get(source);
    if (last !== undefined && this.now() - last < OTHER_ERROR_INTERVAL_MS) return;
    this.otherErrorAt.set(source, this.now());
    // BullMQ finding a running job's keys or lock gone: Redis restarted empty or failed over under it.
    // Those are explained by their own log lines; the job is lost or runs again, nothing is broken here.
    if (isLostJobState(err)) {
      this.logger.warn({ err: (err as Error).message, source }, `${source}: a running job's state was gone from Redis (restarted empty, or a failover); it is lost or runs again`);
      return;
    }
    this.logger.error({ err, source }, `${source} error (repeats within a minute are not logged)`);
  }

  /** Shutting down: our own quit is not an outage. */
  stop(): void {
    this.stopping = true;
  }

  private markDown(name: string): void {
    if (!this.watched.has(name) || this.stopping) return;
    this.notReady.add(name);
    if (!this.down) this.startOutage(name);
  }

  private startOutage(source: string): void {
    this.outageSince = this.now();
    this.options.onChange?.(false);
    this.logger.warn(
      { redis: this.address, source, err: this.lastError },
      `Redis at ${this.address} is not answering: commands are refused until it is back (logged once per outage)`,
    );
  }

  private endOutage(): void {
    if (this.outageSince === undefined || this.stopping) return;
    const downForMs = this.now() - this.outageSince;
    this.outageSince = undefined;
    this.otherErrorAt.clear();
    this.options.onChange?.(true);
    this.logger.info({ redis: this.address, downForMs }, `Redis at ${this.address} is answering again after ${(downForMs / 1000).toFixed(1)} s`);
  }
}

/**
 * Memory of signed requests already taken, so the same signed request sent twice inside the
 * timestamp window is refused. Backed by Redis (SET NX PX) so every bot process shares it.
 */

export type ClaimResult = 'new' | 'seen' | 'unavailable';

export interface ReplayMemory {
  /** Records `key` for `ttlMs`: 'new' the first time, 'seen' after, 'unavailable' when the store does not answer. */
  claim(key: string, ttlMs: number): Promise<ClaimResult>;
}

/** The one ioredis call the memory needs (an ioredis `Redis` satisfies it). */
export interface SetNxClient {
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<'OK' | null>;
}

/** Past this the store counts as unavailable: the slash-command ack must still go out within 1 s. */
const DEFAULT_CLAIM_TIMEOUT_MS = 300;

export class RedisReplayMemory implements ReplayMemory {
  constructor(
    private readonly redis: SetNxClient,
    private readonly prefix: string,
    private readonly timeoutMs = DEFAULT_CLAIM_TIMEOUT_MS,
  ) {}

  async claim(key: string, ttlMs: number): Promise<ClaimResult> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'unavailable'>((resolve) => {
      timer = setTimeout(() => resolve('unavailable'), this.timeoutMs);
    });
    const set = this.redis.set(`${this.prefix}:slack-seen:${key}`, '1', 'PX', Math.ceil(ttlMs), 'NX').then(
      (reply): ClaimResult => (reply === 'OK' ? 'new' : 'seen'),
      (): ClaimResult => 'unavailable',
    );
    try {
      return await Promise.race([set, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

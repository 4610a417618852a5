/**
 * Change requests in Redis. A request is a hash: `data` (the immutable request and its plan, JSON),
 * `state`, and the few fields that change with it. State changes are compare-and-set in one Lua
 * script, so two approvals racing (a Slack retry, two approvers at once, two bot processes) can move
 * a request out of `pending` only once — the base of "never run an action twice".
 */
import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ChangeRequest, RequestState } from './types.ts';

const TRANSITION = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return -1 end
for i = 3, #ARGV do
  if ARGV[i] == state then
    redis.call('HSET', KEYS[1], 'state', ARGV[1])
    local patch = cjson.decode(ARGV[2])
    for k, v in pairs(patch) do redis.call('HSET', KEYS[1], k, v) end
    return 1
  end
end
return 0
`;

/** Fields that change over a request's life; everything else is fixed at creation. */
const MutableFields = z.object({
  approvedBy: z.string().optional(),
  rejectedBy: z.string().optional(),
  messageTs: z.string().optional(),
  outcome: z.string().optional(),
});
type MutableFields = z.infer<typeof MutableFields>;

export type TransitionResult =
  | { ok: true; request: ChangeRequest }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'wrong_state'; request: ChangeRequest };

/** Finished steps of an execution, so a retried job continues from what really happened. */
export interface Journal {
  load(): Promise<Record<string, string>>;
  record(step: string, value?: string): Promise<void>;
}

const ID_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/** Requests are kept this long after creation (the audit log keeps them for good). */
const REQUEST_TTL_SECONDS = 30 * 86_400;

export class RequestStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(id: string): string {
    return `${this.prefix}:req:${id}`;
  }

  /** A short id people can type (`/vip cancel k3f9qa`); unambiguous letters only. */
  newId(): string {
    let id = '';
    for (let i = 0; i < 6; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
    return id;
  }

  /** Stores a new request; false when the id is taken (the caller picks another). */
  async create(request: ChangeRequest): Promise<boolean> {
    const { state, approvedBy, rejectedBy, messageTs, outcome, ...data } = request;
    const created = await this.redis.hsetnx(this.key(request.id), 'data', JSON.stringify(data));
    if (!created) return false;
    await this.redis.hset(this.key(request.id), { state, ...compact({ approvedBy, rejectedBy, messageTs, outcome }) });
    await this.redis.expire(this.key(request.id), REQUEST_TTL_SECONDS);
    return true;
  }

  async get(id: string): Promise<ChangeRequest | undefined> {
    const hash = await this.redis.hgetall(this.key(id));
    if (!hash.data || !hash.state) return undefined;
    const merged = { ...JSON.parse(hash.data), state: hash.state, ...compact(MutableFields.parse({ approvedBy: hash.approvedBy, rejectedBy: hash.rejectedBy, messageTs: hash.messageTs, outcome: hash.outcome })) };
    return ChangeRequest.parse(merged);
  }

  /** Moves a request to `to` only if it is in one of `from`; atomic across processes. */
  async transition(id: string, from: readonly RequestState[], to: RequestState, patch: MutableFields = {}): Promise<TransitionResult> {
    const result = await this.redis.eval(TRANSITION, 1, this.key(id), to, JSON.stringify(compact(patch)), ...from);
    const request = await this.get(id);
    if (result === -1 || !request) return { ok: false, reason: 'not_found' };
    if (result === 0) return { ok: false, reason: 'wrong_state', request };
    return { ok: true, request };
  }

  /** Records the approval message so reactions on it find the request. */
  async attachMessage(id: string, channel: string, ts: string): Promise<void> {
    await this.redis.hset(this.key(id), 'messageTs', ts);
    await this.redis.set(`${this.prefix}:req-msg:${channel}:${ts}`, id, 'EX', REQUEST_TTL_SECONDS);
  }

  async findByMessage(channel: string, ts: string): Promise<string | undefined> {
    return (await this.redis.get(`${this.prefix}:req-msg:${channel}:${ts}`)) ?? undefined;
  }

  /** True the first time an event id is seen: Slack retries and duplicates carry the same id. */
  async claimEvent(eventId: string): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}:event:${eventId}`, '1', 'EX', 3_600, 'NX')) === 'OK';
  }

  journal(id: string): Journal {
    const key = `${this.prefix}:req-journal:${id}`;
    return {
      load: () => this.redis.hgetall(key),
      record: async (step, value = String(Date.now())) => {
        await this.redis.hset(key, step, value);
        await this.redis.expire(key, REQUEST_TTL_SECONDS);
      },
    };
  }

  /** A per-cluster lock owned by one execution (belt and braces next to the queue's concurrency 1). */
  async lockCluster(cluster: string, owner: string, ttlMs: number): Promise<boolean> {
    const key = `${this.prefix}:lock:cluster:${cluster}`;
    if ((await this.redis.set(key, owner, 'PX', ttlMs, 'NX')) === 'OK') return true;
    // The same request re-running after a crash owns it already.
    if ((await this.redis.get(key)) === owner) {
      await this.redis.pexpire(key, ttlMs);
      return true;
    }
    return false;
  }

  async unlockCluster(cluster: string, owner: string): Promise<void> {
    await this.redis.eval(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, 1, `${this.prefix}:lock:cluster:${cluster}`, owner);
  }

  async lockHolder(cluster: string): Promise<string | undefined> {
    return (await this.redis.get(`${this.prefix}:lock:cluster:${cluster}`)) ?? undefined;
  }
}

function compact<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logger.ts';
import { RedisReplayMemory, type ClaimResult, type ReplayMemory, type SetNxClient } from '../../../src/slack/replay-guard.ts';
import { checkSlackRequest, REPLAY_MEMORY_TTL_MS, replayKey } from '../../../src/slack/slack-ingress.ts';
import { verifySlackSignature } from '../../../src/slack/verify-slack-request.ts';
import { signSlackRequest, slashCommandBody } from '../../support/slack-signing.ts';

const SECRET = 'unit-signing-secret-0123456789';
const NOW_MS = 1_750_000_000_000;
const NOW_SEC = NOW_MS / 1000;
const FORM = 'application/x-www-form-urlencoded';

function signed(body: string, timestamp = NOW_SEC, secret = SECRET) {
  const headers = signSlackRequest(body, secret, timestamp);
  return { rawBody: Buffer.from(body), timestamp: headers['x-slack-request-timestamp'], signature: headers['x-slack-signature'] };
}

/** In-memory ReplayMemory that records what it was asked. */
class MapReplayMemory implements ReplayMemory {
  readonly claims: Array<{ key: string; ttlMs: number }> = [];
  private readonly seen = new Set<string>();
  constructor(private readonly answer?: ClaimResult) {}
  async claim(key: string, ttlMs: number): Promise<ClaimResult> {
    this.claims.push({ key, ttlMs });
    if (this.answer) return this.answer;
    if (this.seen.has(key)) return 'seen';
    this.seen.add(key);
    return 'new';
  }
}

const MISMATCH = { ok: false, reason: 'signature mismatch' };
const BAD_SIGNATURE = { ok: false, reason: 'missing or malformed x-slack-signature' };
const REPLAYED = { pass: false, status: 401, reason: 'replayed: this signed request was already taken' };

describe('verifySlackSignature', () => {
  const body = slashCommandBody({ text: 'status', userId: 'U0OPER1', channelId: 'C0VIPOPS' });
  const verify = (request: ReturnType<typeof signed>) => verifySlackSignature(request, SECRET, NOW_MS);

  it('takes a request signed now and up to 300 s either way', () => {
    for (const skew of [0, -300, 300]) {
      const request = signed(body, NOW_SEC + skew);
      expect(verify(request)).toEqual({ ok: true, signatureHex: request.signature!.slice(3) });
    }
  });

  it('refuses a timestamp a day in the future (Bolt alone accepts it)', () => {
    expect(verifySlackSignature(signed(body, NOW_SEC + 86_400), SECRET, NOW_MS)).toEqual({
      ok: false,
      reason: 'x-slack-request-timestamp is 86400 s from our clock (at most 300 s either way)',
    });
  });

  it('refuses 301 s in the future and 301 s in the past', () => {
    expect(verifySlackSignature(signed(body, NOW_SEC + 301), SECRET, NOW_MS)).toMatchObject({ ok: false });
    expect(verifySlackSignature(signed(body, NOW_SEC - 301), SECRET, NOW_MS)).toMatchObject({ ok: false });
  });

  it('refuses a wrong secret, a changed body, and malformed headers', () => {
    expect(verify(signed(body, NOW_SEC, 'another-secret'))).toEqual(MISMATCH);
    expect(verify({ ...signed(body), rawBody: Buffer.from(`${body}&x=1`) })).toEqual(MISMATCH);
    expect(verify({ ...signed(body), signature: 'v1=abc' })).toEqual(BAD_SIGNATURE);
    expect(verify({ ...signed(body), signature: undefined })).toEqual(BAD_SIGNATURE);
    expect(verify({ ...signed(body), timestamp: '1e9' })).toEqual({ ok: false, reason: 'missing or malformed x-slack-request-timestamp' });
    expect(verifySlackSignature(signed(body), '', NOW_MS)).toEqual({ ok: false, reason: 'no signing secret configured' });
  });
});

describe('checkSlackRequest', () => {
  const options = (replayMemory?: ReplayMemory) =>
    ({ signingSecret: SECRET, logger: silentLogger(), now: () => NOW_MS, ...(replayMemory ? { replayMemory } : {}) });
  const headersOf = (body: string, contentType = FORM, extra: Record<string, string> = {}) =>
    ({ 'content-type': contentType, ...signSlackRequest(body, SECRET, NOW_SEC), ...extra });
  /** Checks `body` signed now, with `extra` headers, against `memory`. */
  const check = (body: string, memory?: ReplayMemory, contentType = FORM, extra: Record<string, string> = {}) =>
    checkSlackRequest(headersOf(body, contentType, extra), Buffer.from(body), options(memory));

  it('the same signed slash command twice: taken, then refused as a replay', async () => {
    const memory = new MapReplayMemory();
    const body = slashCommandBody({ text: 'promote node2', userId: 'U0OPER1', channelId: 'C0VIPOPS' });
    expect(await check(body, memory)).toEqual({ pass: true, claim: 'new' });
    expect(await check(body, memory)).toEqual(REPLAYED);
    // Remembered at least as long as the signature stays acceptable (±300 s → up to 600 s after first sight).
    expect(memory.claims.map((c) => c.ttlMs)).toEqual([REPLAY_MEMORY_TTL_MS, REPLAY_MEMORY_TTL_MS]);
    expect(REPLAY_MEMORY_TTL_MS).toBeGreaterThanOrEqual(600_000);
  });

  it("Slack's retry of an event (X-Slack-Retry-Num) is not a replay; the same retry twice is", async () => {
    const memory = new MapReplayMemory();
    const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev1', event: { type: 'reaction_added' } });
    const json = 'application/json';
    const retry1 = { 'x-slack-retry-num': '1' };
    expect(await check(body, memory, json)).toEqual({ pass: true, claim: 'new' });
    expect(await check(body, memory, json, retry1)).toEqual({ pass: true, claim: 'new' });
    expect(await check(body, memory, json, retry1)).toEqual(REPLAYED);
  });

  it('a retry number added to a slash command does not make it run again (the header is not signed)', async () => {
    const memory = new MapReplayMemory();
    const body = slashCommandBody({ text: 'promote node2', userId: 'U0OPER1', channelId: 'C0VIPOPS' });
    expect(await check(body, memory)).toEqual({ pass: true, claim: 'new' });
    expect(await check(body, memory, FORM, { 'x-slack-retry-num': '1' })).toEqual(REPLAYED);
  });

  it('a bad signature is refused before the replay memory is asked', async () => {
    const memory = new MapReplayMemory();
    const body = 'text=status';
    const headers = { 'content-type': FORM, ...signSlackRequest(body, 'wrong-secret', NOW_SEC) };
    const verdict = await checkSlackRequest(headers, Buffer.from(body), options(memory));
    expect(verdict).toEqual({ pass: false, status: 401, reason: MISMATCH.reason });
    expect(memory.claims).toEqual([]);
  });

  it('replay memory unavailable (Redis down): passes, so the dispatcher can answer "queue unavailable"', async () => {
    const body = 'text=status';
    expect(await check(body, new MapReplayMemory('unavailable'))).toEqual({ pass: true, claim: 'unavailable' });
  });

  it('duplicated signature headers count as missing', async () => {
    const body = 'text=status';
    const signature = signSlackRequest(body, SECRET, NOW_SEC)['x-slack-signature']!;
    const headers = { 'content-type': FORM, 'x-slack-request-timestamp': String(NOW_SEC), 'x-slack-signature': [signature, 'v0=00'] };
    const verdict = await checkSlackRequest(headers, Buffer.from(body), options());
    expect(verdict).toEqual({ pass: false, status: 401, reason: BAD_SIGNATURE.reason });
  });

  it('replayKey: retry number only for JSON event bodies, 1–3 only', () => {
    expect(replayKey('ab', 'application/json', '2')).toBe('ab:2');
    expect(replayKey('ab', 'application/json; charset=utf-8', '3')).toBe('ab:3');
    expect(replayKey('ab', 'application/json', '9')).toBe('ab:0');
    expect(replayKey('ab', FORM, '1')).toBe('ab:0');
    expect(replayKey('ab', 'application/json', undefined)).toBe('ab:0');
  });
});

describe('RedisReplayMemory', () => {
  function client(reply: () => Promise<'OK' | null>) {
    const calls: unknown[][] = [];
    const redis: SetNxClient = {
      set: (...args) => {
        calls.push(args);
        return reply();
      },
    };
    return { redis, calls };
  }

  it('SET key NX PX under the prefix: OK → new, nil → seen', async () => {
    const ok = client(async () => 'OK');
    expect(await new RedisReplayMemory(ok.redis, 'vipbot').claim('ab:0', 610_000)).toBe('new');
    expect(ok.calls).toEqual([['vipbot:slack-seen:ab:0', '1', 'PX', 610_000, 'NX']]);
    expect(await new RedisReplayMemory(client(async () => null).redis, 'vipbot').claim('ab:0', 1)).toBe('seen');
  });

  it('an error or no answer within the deadline is unavailable', async () => {
    const failing = client(() => Promise.reject(new Error("Stream isn't writeable")));
    expect(await new RedisReplayMemory(failing.redis, 'p').claim('k', 1)).toBe('unavailable');
    const started = Date.now();
    expect(await new RedisReplayMemory(client(() => new Promise(() => {})).redis, 'p', 50).claim('k', 1)).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

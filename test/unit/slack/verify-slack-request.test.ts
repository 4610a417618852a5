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

describe('verifySlackSignature', () => {
  const body = slashCommandBody({ text: 'status', userId: 'U0OPER1', channelId: 'C0VIPOPS' });

  it('takes a request signed now and up to 300 s either way', () => {
    for (const skew of [0, -300, 300]) {
      expect(verifySlackSignature(signed(body, NOW_SEC + skew), SECRET, NOW_MS)).toEqual({ ok: true, signatureHex: signed(body, NOW_SEC + skew).signature!.slice(3) });
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
    expect(verifySlackSignature(signed(body, NOW_SEC, 'another-secret'), SECRET, NOW_MS)).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifySlackSignature({ ...signed(body), rawBody: Buffer.from(`${body}&x=1`) }, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifySlackSignature({ ...signed(body), signature: 'v1=abc' }, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'missing or malformed x-slack-signature' });
    expect(verifySlackSignature({ ...signed(body), signature: undefined }, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'missing or malformed x-slack-signature' });
    expect(verifySlackSignature({ ...signed(body), timestamp: '1e9' }, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'missing or malformed x-slack-request-timestamp' });
    expect(verifySlackSignature(signed(body), '', NOW_MS)).toEqual({ ok: false, reason: 'no signing secret configured' });
  });
});

describe('checkSlackRequest', () => {
  const options = (replayMemory?: ReplayMemory) => ({ signingSecret: SECRET, logger: silentLogger(), now: () => NOW_MS, ...(replayMemory ? { replayMemory } : {}) });
  const headersOf = (body: string, contentType = FORM, extra: Record<string, string> = {}) => ({ 'content-type': contentType, ...signSlackRequest(body, SECRET, NOW_SEC), ...extra });

  it('the same signed slash command twice: taken, then refused as a replay', async () => {
    const memory = new MapReplayMemory();
    const body = slashCommandBody({ text: 'promote node2', userId: 'U0OPER1', channelId: 'C0VIPOPS' });
    expect(await checkSlackRequest(headersOf(body), Buffer.from(body), options(memory))).toEqual({ pass: true, claim: 'new' });
    expect(await checkSlackRequest(headersOf(body), Buffer.from(body), options(memory))).toEqual({ pass: false, status: 401, reason: 'replayed: this signed request was already taken' });
    // Remembered at least as long as the signature stays acceptable (±300 s → up to 600 s after first sight).
    expect(memory.claims.map((c) => c.ttlMs)).toEqual([REPLAY_MEMORY_TTL_MS, REPLAY_MEMORY_TTL_MS]);
    expect(REPLAY_MEMORY_TTL_MS).toBeGreaterThanOrEqual(600_000);
  });

  it("Slack's retry of an event (X-Slack-Retry-Num) is not a replay; the same retry twice is", async () => {
    const memory = new MapReplayMemory();
    const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev1', event: { type: 'reaction_added' } });
    const json = 'application/json';
    expect(await checkSlackRequest(headersOf(body, json), Buffer.from(body), options(memory))).toEqual({ pass: true, claim: 'new' });
    expect(await checkSlackRequest(headersOf(body, json, { 'x-slack-retry-num': '1' }), Buffer.from(body), options(memory))).toEqual({ pass: true, claim: 'new' });
    expect(await checkSlackRequest(headersOf(body, json, { 'x-slack-retry-num': '1' }), Buffer.from(body), options(memory))).toMatchObject({ pass: false, status: 401 });
  });

  it('a retry number added to a slash command does not make it run again (the header is not signed)', async () => {
    const memory = new MapReplayMemory();
    const body = slashCommandBody({ text: 'promote node2', userId: 'U0OPER1', channelId: 'C0VIPOPS' });
    expect(await checkSlackRequest(headersOf(body), Buffer.from(body), options(memory))).toEqual({ pass: true, claim: 'new' });
    expect(await checkSlackRequest(headersOf(body, FORM, { 'x-slack-retry-num': '1' }), Buffer.from(body), options(memory))).toMatchObject({ pass: false, status: 401 });
  });

  it('a bad signature is refused before the replay memory is asked', async () => {
    const memory = new MapReplayMemory();
    const body = 'text=status';
    const headers = { 'content-type': FORM, ...signSlackRequest(body, 'wrong-secret', NOW_SEC) };
    expect(await checkSlackRequest(headers, Buffer.from(body), options(memory))).toEqual({ pass: false, status: 401, reason: 'signature mismatch' });
    expect(memory.claims).toEqual([]);
  });

  it('replay memory unavailable (Redis down): passes, so the dispatcher can answer "queue unavailable"', async () => {
    const body = 'text=status';
    expect(await checkSlackRequest(headersOf(body), Buffer.from(body), options(new MapReplayMemory('unavailable')))).toEqual({ pass: true, claim: 'unavailable' });
  });

  it('duplicated signature headers count as missing', async () => {
    const body = 'text=status';
    const headers = { 'content-type': FORM, 'x-slack-request-timestamp': String(NOW_SEC), 'x-slack-signature': [signSlackRequest(body, SECRET, NOW_SEC)['x-slack-signature']!, 'v0=00'] };
    expect(await checkSlackRequest(headers, Buffer.from(body), options())).toEqual({ pass: false, status: 401, reason: 'missing or malformed x-slack-signature' });
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
    expect(await new RedisReplayMemory(client(() => Promise.reject(new Error("Stream isn't writeable"))).redis, 'p').claim('k', 1)).toBe('unavailable');
    const started = Date.now();
    expect(await new RedisReplayMemory(client(() => new Promise(() => {})).redis, 'p', 50).claim('k', 1)).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

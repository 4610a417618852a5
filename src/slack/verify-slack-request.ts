/**
 * Slack's v0 request signature (HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret),
 * checked with a timestamp window in BOTH directions: Bolt only refuses timestamps from the past, so a
 * signed request dated a day ahead would stay replayable for a day.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's documented tolerance: a request more than 5 minutes from our clock, either way, is refused. */
export const SLACK_TIMESTAMP_TOLERANCE_SEC = 300;

const TIMESTAMP = /^\d{1,12}$/;
const SIGNATURE = /^v0=([0-9a-f]{64})$/;

export interface SignedRequest {
  rawBody: Buffer;
  /** X-Slack-Request-Timestamp as received (absent or duplicated → undefined). */
  timestamp: string | undefined;
  /** X-Slack-Signature as received. */
  signature: string | undefined;
}

export type SignatureVerdict = { ok: true; signatureHex: string } | { ok: false; reason: string };

export function verifySlackSignature(request: SignedRequest, signingSecret: string, nowMs: number): SignatureVerdict {
  if (!signingSecret) return { ok: false, reason: 'no signing secret configured' };
  if (request.timestamp === undefined || !TIMESTAMP.test(request.timestamp)) {
    return { ok: false, reason: 'missing or malformed x-slack-request-timestamp' };
  }
  const skewSec = Math.abs(Math.floor(nowMs / 1000) - Number(request.timestamp));
  if (skewSec > SLACK_TIMESTAMP_TOLERANCE_SEC) {
    const reason = `x-slack-request-timestamp is ${skewSec} s from our clock (at most ${SLACK_TIMESTAMP_TOLERANCE_SEC} s either way)`;
    return { ok: false, reason };
  }
  const given = request.signature === undefined ? undefined : SIGNATURE.exec(request.signature)?.[1];
  if (given === undefined) return { ok: false, reason: 'missing or malformed x-slack-signature' };
  const expected = createHmac('sha256', signingSecret).update(`v0:${request.timestamp}:`).update(request.rawBody).digest('hex');
  // Both are 64 hex characters here (the regex), so timingSafeEqual's equal-length rule holds.
  if (!timingSafeEqual(Buffer.from(given, 'latin1'), Buffer.from(expected, 'latin1'))) return { ok: false, reason: 'signature mismatch' };
  return { ok: true, signatureHex: given };
}

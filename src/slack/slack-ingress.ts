/**
 * The gate in front of Bolt's HTTP receiver for POST /slack/events: a bounded body (refused from
 * Content-Length before anything is read or parsed), the v0 signature with a ±5 min window, and
 * replay memory. Only a request that passes reaches Bolt, which then does everything else as usual
 * (url_verification, ssl_check, acks, its own signature check on the body we hand it).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import type { HTTPReceiver } from '@slack/bolt';
import type { Logger } from '../logger.ts';
import type { ClaimResult, ReplayMemory } from './replay-guard.ts';
import { SLACK_TIMESTAMP_TOLERANCE_SEC, verifySlackSignature } from './verify-slack-request.ts';

/**
 * Largest body taken. Slack's own are small: a slash command is ~1 KB plus its text, a reaction event
 * ~1 KB. The biggest legitimate ones are a 40,000-character message text percent-encoded (up to ~480 KB
 * for 4-byte characters) and interactivity payloads carrying a 50-block message. 512 KiB takes all of
 * those, so a long pasted `/vip` text still reaches the dispatcher and gets a useful answer instead of
 * Slack's opaque http_client_error; anything bigger is not from Slack and is refused unread.
 */
export const MAX_SLACK_BODY_BYTES = 512 * 1024;

/**
 * A signature is acceptable while our clock is within ±300 s of its timestamp: up to 600 s after it is
 * first seen (if it arrived dated 300 s ahead). Remembering it that long, plus slack for clock steps,
 * means it can never be taken twice.
 */
export const REPLAY_MEMORY_TTL_MS = (2 * SLACK_TIMESTAMP_TOLERANCE_SEC + 10) * 1000;

export interface SlackIngressOptions {
  signingSecret: string;
  /** Absent: signature and window still checked, but a replay inside the window is not caught. */
  replayMemory?: ReplayMemory;
  logger: Logger;
  maxBodyBytes?: number;
  now?: () => number;
}

export type IngressVerdict =
  | { pass: true; claim?: ClaimResult }
  | { pass: false; status: 401; reason: string };

/** Decides on one buffered request: signature, window, then replay memory (in that order, so junk costs no Redis call). */
export async function checkSlackRequest(
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
  options: SlackIngressOptions,
): Promise<IngressVerdict> {
  const contentType = single(headers['content-type']);
  // Slack's ssl_check is unsigned by design; Bolt answers it 200 with everything but `ssl_check` stripped.
  const isForm = contentType === 'application/x-www-form-urlencoded';
  if (isForm && rawBody.includes('ssl_check=') && parseQueryString(rawBody.toString('utf8')).ssl_check === '1') return { pass: true };
  const signed = verifySlackSignature(
    { rawBody, timestamp: single(headers['x-slack-request-timestamp']), signature: single(headers['x-slack-signature']) },
    options.signingSecret,
    (options.now ?? Date.now)(),
  );
  if (!signed.ok) return { pass: false, status: 401, reason: signed.reason };
  if (!options.replayMemory) return { pass: true };
  const key = replayKey(signed.signatureHex, contentType, single(headers['x-slack-retry-num']));
  const claim = await options.replayMemory.claim(key, REPLAY_MEMORY_TTL_MS);
  if (claim === 'seen') return { pass: false, status: 401, reason: 'replayed: this signed request was already taken' };
  // 'unavailable' (Redis down) passes on purpose: nothing can be queued then anyway, and the dispatcher
  // must still answer a slash command within 1 s with "queue unavailable — Redis … not answering"; a
  // 401 would show the user only Slack's opaque failure. Events then fail at the Redis-backed store.
  return { pass: true, claim };
}

/**
 * Slack retries an event with the same body and signature plus X-Slack-Retry-Num (1–3); those are
 * not replays (the approval flow dedups them by event_id). The header is not signed, so it only
 * counts for Events API bodies (JSON): slash commands and interactivity are never retried by Slack,
 * and a forged retry number must not let the same command run again.
 */
export function replayKey(signatureHex: string, contentType: string | undefined, retryNum: string | undefined): string {
  const isEvent = contentType?.split(';')[0]?.trim() === 'application/json';
  const retry = isEvent && retryNum !== undefined && /^[1-3]$/.test(retryNum) ? retryNum : '0';
  return `${signatureHex}:${retry}`;
}

/** Reads the body up to `limit` bytes; a declared or streamed size past it is 'too_large' without buffering the rest. */
export function readBoundedBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  const declared = single(req.headers['content-length']);
  if (declared !== undefined && Number(declared) > limit) return Promise.resolve('too_large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** Puts the gate in front of `receiver`'s handling of POST `endpoint`; every other request goes to Bolt untouched. */
export function guardSlackEndpoint(receiver: HTTPReceiver, endpoint: string, options: SlackIngressOptions): void {
  const bolt = receiver.requestListener;
  const limit = options.maxBodyBytes ?? MAX_SLACK_BODY_BYTES;
  let replayMemoryDown = false;
  const noteClaim = (claim: ClaimResult | undefined): void => {
    const down = claim === 'unavailable';
    if (down !== replayMemoryDown && claim !== undefined) {
      replayMemoryDown = down;
      if (down) options.logger.warn('replay memory (Redis) not answering: signed requests pass without the replay check until it is back');
      else options.logger.info('replay memory (Redis) answering again');
    }
  };
  const gate = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBoundedBody(req, limit);
    if (body === 'too_large') {
      const contentLength = single(req.headers['content-length']) ?? 'chunked';
      options.logger.warn({ limit, contentLength }, 'Slack request refused: body too large');
      // Connection: close so Node does not read the rest of an oversized body to keep the socket alive.
      res.writeHead(413, { connection: 'close', 'content-type': 'text/plain' });
      res.end(`body over ${limit} bytes\n`);
      return;
    }
    const verdict = await checkSlackRequest(req.headers, body, options);
    if (!verdict.pass) {
      options.logger.warn({ reason: verdict.reason }, 'Slack request refused');
      res.writeHead(verdict.status);
      res.end();
      return;
    }
    noteClaim(verdict.claim);
    // Bolt takes an already-buffered request as is (it checks for `rawBody`) and re-verifies it.
    bolt(Object.assign(req, { rawBody: body }), res);
  };
  receiver.requestListener = (req, res) => {
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://localhost').pathname !== endpoint) {
      bolt(req, res);
      return;
    }
    gate(req, res).catch((err: unknown) => {
      options.logger.error({ err }, 'Slack request gate failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
}

/** A header Node gives as string | string[]: a duplicated one counts as absent. */
function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * Bounded parallelism over nodes: status of a 10-cluster config touches 20 hosts, and each host
 * costs an SSH handshake; a limit keeps the bot from opening them all at once.
 */
import { getMaxListeners, setMaxListeners } from 'node:events';
import { VipbotError } from '../errors.ts';

/**
 * Abort listeners one item in flight may hold on the shared signal: a node's status runs five
 * commands at once, each listening (and removing its listener when it settles) once or twice.
 */
const LISTENERS_PER_ITEM = 16;

/** The outcome of one item: every item settles, one failure never hides the others' results. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Runs `fn` over `items` with at most `limit` in flight; results keep the input order. When `signal`
 * aborts, items not yet started settle as `{ ok: false }` with a `fan_out_aborted` error; started ones
 * get the signal and settle however `fn` decides.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number, signal?: AbortSignal) => Promise<R>,
  signal?: AbortSignal,
): Promise<Settled<R>[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const results = new Array<Settled<R>>(items.length);
  // One signal shared by every item: without this Node warns of a listener leak at 11 listeners.
  if (signal) setMaxListeners(Math.max(getMaxListeners(signal), 10 + limit * LISTENERS_PER_ITEM), signal);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      if (signal?.aborted) {
        results[index] = { ok: false, error: abortError(signal) };
        continue;
      }
      try {
        // `as T`: index < length, so the slot exists (noUncheckedIndexedAccess cannot know).
        results[index] = { ok: true, value: await fn(items[index] as T, index, signal) };
      } catch (error) {
        results[index] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason instanceof VipbotError ? signal.reason : new VipbotError('fan_out_aborted', 'stopped before this node was reached', 'the job was cancelled or timed out; run it again', { cause: signal.reason });
}

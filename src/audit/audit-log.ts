/**
 * The audit log: every request and what became of it, in a Redis stream (survives restarts, read
 * newest first by `/vip history`). Each entry repeats the request's summary fields so history needs
 * no other key; `detail` carries the plan, diff and node commands with exit codes and timings.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { Action, RequestState } from '../approvals/types.ts';

export const AuditEvent = z.enum(['requested', 'refused', 'approved', 'rejected', 'expired', 'cancelled', 'started', 'finished']);
export type AuditEvent = z.infer<typeof AuditEvent>;

export const AuditEntry = z.object({
  event: AuditEvent,
  requestId: z.string(),
  action: Action,
  cluster: z.string(),
  node: z.string(),
  vip: z.string().optional(),
  state: RequestState.or(z.literal('refused')),
  requestedBy: z.string(),
  approvedBy: z.string().optional(),
  /** Who did this step (approver, rejecter, canceller), when not the requester. */
  by: z.string().optional(),
  summary: z.string().optional(),
  at: z.number().int(),
  durationMs: z.number().optional(),
  /** Plan, diff, commands with exit codes and timings. */
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** Keeps the stream bounded; approximate trimming is cheap. */
const MAX_ENTRIES = 100_000;

export class AuditLog {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private get key(): string {
    return `${this.prefix}:audit`;
  }

  async append(entry: AuditEntry): Promise<string> {
    const checked = AuditEntry.parse(entry);
    const id = await this.redis.xadd(this.key, 'MAXLEN', '~', String(MAX_ENTRIES), '*', 'entry', JSON.stringify(checked));
    return String(id);
  }

  /** The newest `count` entries, newest first. */
  async recent(count: number): Promise<AuditEntry[]> {
    const rows = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', count);
    return rows.flatMap(([, fields]) => {
      const i = fields.indexOf('entry');
      const parsed = i >= 0 ? AuditEntry.safeParse(JSON.parse(fields[i + 1] ?? 'null')) : undefined;
      return parsed?.success ? [parsed.data] : [];
    });
  }

  /** Every entry of one request, oldest first. */
  async forRequest(requestId: string, scan = 2_000): Promise<AuditEntry[]> {
    return (await this.recent(scan)).filter((e) => e.requestId === requestId).reverse();
  }

  /**
   * The last `n` requests, newest first, each as its latest entry (so the state is the final one).
   * Scans a bounded window of the stream: history is for people, not for archaeology.
   */
  async lastRequests(n: number, scan = 5_000): Promise<AuditEntry[]> {
    const seen = new Map<string, AuditEntry>();
    for (const entry of await this.recent(scan)) {
      if (!seen.has(entry.requestId)) seen.set(entry.requestId, entry);
      if (seen.size >= n) break;
    }
    return [...seen.values()];
  }
}

/**
 * Applies `planSchedulerChanges` to a BullMQ queue: run at worker start, so a changed `memory.cron`,
 * `timezone`, `channel` or `sampleEvery` takes effect on restart and nothing stale is left behind.
 */
import type { Logger } from '../logger.ts';
import { desiredMemorySchedulers, desiredWatchScheduler, planSchedulerChanges, type DesiredScheduler, type ExistingScheduler, type MemoryScheduleConfig } from './schedule.ts';

/** The BullMQ Queue methods used (a real `Queue` fits). */
export interface SchedulerQueue {
  getJobSchedulers(start?: number, end?: number, asc?: boolean): Promise<ExistingScheduler[]>;
  upsertJobScheduler(id: string, repeat: DesiredScheduler['repeat'], template: DesiredScheduler['template']): Promise<unknown>;
  removeJobScheduler(id: string): Promise<boolean>;
}

/** Brings the queue's memory schedulers in line with the config; returns what it changed. */
export async function reconcileMemorySchedulers(
  queue: SchedulerQueue,
  memory: MemoryScheduleConfig,
  options: { logger?: Pick<Logger, 'info'>; now?: number; watch?: { every: number } } = {},
): Promise<{ upserted: string[]; removed: string[] }> {
  const existing = await queue.getJobSchedulers();
  const now = options.now ?? Date.now();
  const plan = planSchedulerChanges(existing, [...desiredMemorySchedulers(memory, now), ...desiredWatchScheduler(options.watch, now)]);
  for (const id of plan.remove) {
    await queue.removeJobScheduler(id);
    options.logger?.info({ scheduler: id }, 'memory scheduler removed (no longer in the config)');
  }
  for (const s of plan.upsert) {
    await queue.upsertJobScheduler(s.id, s.repeat, s.template);
    options.logger?.info({ scheduler: s.id, repeat: s.repeat }, 'memory scheduler set');
  }
  return { upserted: plan.upsert.map((s) => s.id), removed: plan.remove };
}

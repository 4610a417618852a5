/**
 * The memory job schedulers: what the config asks for, and what a restart changes in Redis (replace
 * in place, remove what is no longer asked for, leave the rest alone). Real BullMQ: see
 * test/integration/memory.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/config.ts';
import {
  startSampleJob,
  desiredMemorySchedulers,
  isKnownTimeZone,
  isValidCronPattern,
  MEMORY_DAILY_SCHEDULER,
  MEMORY_SAMPLE_SCHEDULER,
  nextSampleTime,
  planSchedulerChanges,
  type ExistingScheduler,
} from '../../../src/memory/schedule.ts';
import { reconcileMemorySchedulers, type SchedulerQueue } from '../../../src/memory/scheduler-runtime.ts';

const H = 3_600_000;
const NOW = Date.UTC(2025, 0, 8, 6, 17, 42);
const DAILY = { cron: '0 9 * * *', timezone: 'Europe/Moscow', channel: 'C0VIPOPS' };

/** What BullMQ's getJobSchedulers() returns for what was upserted. */
function asExisting(memory: Parameters<typeof desiredMemorySchedulers>[0]): ExistingScheduler[] {
  return desiredMemorySchedulers(memory, NOW).map((d) => ({
    key: d.id,
    ...('every' in d.repeat ? { every: d.repeat.every, startDate: d.repeat.startDate } : { pattern: d.repeat.pattern, tz: d.repeat.tz }),
    template: { data: JSON.parse(JSON.stringify(d.template.data)) as unknown },
  }));
}

describe('nextSampleTime', () => {
  it.each<[string, number, number, number]>([
    ['the next top of the hour', NOW, H, Date.UTC(2025, 0, 8, 7)],
    ['now when exactly on a slot', Date.UTC(2025, 0, 8, 7), H, Date.UTC(2025, 0, 8, 7)],
    ['the next 15 minutes', NOW, 15 * 60_000, Date.UTC(2025, 0, 8, 6, 30)],
    ['the next 5 seconds', NOW, 5_000, Date.UTC(2025, 0, 8, 6, 17, 45)],
  ])('%s', (_what, now, every, expected) => {
    expect(nextSampleTime(now, every)).toBe(expected);
  });
});

describe('desiredMemorySchedulers', () => {
  it('samples every sampleEvery from the next slot, and posts the daily summary with its channel and zone', () => {
    expect(desiredMemorySchedulers({ sampleEvery: H, dailySummary: DAILY }, NOW)).toEqual([
      {
        id: MEMORY_SAMPLE_SCHEDULER,
        repeat: { every: H, startDate: Date.UTC(2025, 0, 8, 7) },
        template: { name: 'memory-sample', data: {}, opts: expect.objectContaining({ attempts: 1 }) },
      },
      {
        id: MEMORY_DAILY_SCHEDULER,
        repeat: { pattern: '0 9 * * *', tz: 'Europe/Moscow' },
        template: { name: 'memory-daily', data: { channel: 'C0VIPOPS', timezone: 'Europe/Moscow' }, opts: expect.objectContaining({ attempts: 1 }) },
      },
    ]);
  });

  it('has no daily scheduler without a channel', () => {
    expect(desiredMemorySchedulers({ sampleEvery: H, dailySummary: { cron: '0 9 * * *', timezone: 'UTC' } }, NOW).map((d) => d.id)).toEqual([MEMORY_SAMPLE_SCHEDULER]);
    expect(desiredMemorySchedulers({ sampleEvery: H }, NOW).map((d) => d.id)).toEqual([MEMORY_SAMPLE_SCHEDULER]);
  });

  it('follows the parsed config', () => {
    const config = parseConfigText(`
memory: { sampleEvery: 30m, dailySummary: { cron: "30 8 * * 1-5", timezone: Europe/Moscow, channel: C0OPS } }
clusters: [{ name: orcl, vips: [{ name: p, instance: VI_P, address: 198.51.100.100 }], nodes: [{ name: node1, host: 198.51.100.1 }] }]
`);
    const desired = desiredMemorySchedulers(config.memory, NOW);
    expect(desired.map((d) => d.repeat)).toEqual([{ every: 30 * 60_000, startDate: Date.UTC(2025, 0, 8, 6, 30) }, { pattern: '30 8 * * 1-5', tz: 'Europe/Moscow' }]);
  });
});

describe('planSchedulerChanges', () => {
  const base = { sampleEvery: H, dailySummary: DAILY };

  it.each<[string, ExistingScheduler[], Parameters<typeof desiredMemorySchedulers>[0], string[], string[]]>([
    ['first start: both are created', [], base, [MEMORY_SAMPLE_SCHEDULER, MEMORY_DAILY_SCHEDULER], []],
    ['restart with the same config: nothing changes (the next run stays where it is)', asExisting(base), base, [], []],
    ['cron changed: the daily one is replaced in place', asExisting(base), { ...base, dailySummary: { ...DAILY, cron: '0 10 * * *' } }, [MEMORY_DAILY_SCHEDULER], []],
    ['time zone changed', asExisting(base), { ...base, dailySummary: { ...DAILY, timezone: 'UTC' } }, [MEMORY_DAILY_SCHEDULER], []],
    ['channel changed: the job data carries it', asExisting(base), { ...base, dailySummary: { ...DAILY, channel: 'C0OTHER' } }, [MEMORY_DAILY_SCHEDULER], []],
    ['sampleEvery changed', asExisting(base), { ...base, sampleEvery: 15 * 60_000 }, [MEMORY_SAMPLE_SCHEDULER], []],
    ['daily summary dropped from the config: removed', asExisting(base), { sampleEvery: H }, [], [MEMORY_DAILY_SCHEDULER]],
    ['channel removed: removed', asExisting(base), { sampleEvery: H, dailySummary: { cron: DAILY.cron, timezone: DAILY.timezone } }, [], [MEMORY_DAILY_SCHEDULER]],
    [
      'other schedulers on the queue are not ours to touch',
      [...asExisting(base), { key: 'someone-else', every: 1000 }],
      { sampleEvery: H },
      [],
      [MEMORY_DAILY_SCHEDULER],
    ],
    [
      'a daily scheduler turned into an every one (or the reverse) is replaced',
      [{ key: MEMORY_DAILY_SCHEDULER, every: H, template: { data: { channel: 'C0VIPOPS', timezone: 'Europe/Moscow' } } }, ...asExisting(base).slice(0, 1)],
      base,
      [MEMORY_DAILY_SCHEDULER],
      [],
    ],
  ])('%s', (_what, existing, memory, upsert, remove) => {
    const plan = planSchedulerChanges(existing, desiredMemorySchedulers(memory, NOW + 3 * H));
    expect(plan.upsert.map((d) => d.id)).toEqual(upsert);
    expect(plan.remove).toEqual(remove);
  });
});

describe('reconcileMemorySchedulers', () => {
  class FakeQueue implements SchedulerQueue {
    schedulers = new Map<string, ExistingScheduler>();
    calls: string[] = [];
    async getJobSchedulers() {
      return [...this.schedulers.values()];
    }
    async upsertJobScheduler(id: string, repeat: { every: number } | { pattern: string; tz: string }, template: { data: Record<string, unknown> }) {
      this.calls.push(`upsert ${id}`);
      this.schedulers.set(id, { key: id, ...repeat, template: { data: template.data } });
    }
    async removeJobScheduler(id: string) {
      this.calls.push(`remove ${id}`);
      return this.schedulers.delete(id);
    }
  }

  it('converges in one pass and is idempotent', async () => {
    const q = new FakeQueue();
    expect(await reconcileMemorySchedulers(q, { sampleEvery: H, dailySummary: DAILY }, { now: NOW })).toEqual({ upserted: [MEMORY_SAMPLE_SCHEDULER, MEMORY_DAILY_SCHEDULER], removed: [] });
    expect(await reconcileMemorySchedulers(q, { sampleEvery: H, dailySummary: DAILY }, { now: NOW + H })).toEqual({ upserted: [], removed: [] });
    await reconcileMemorySchedulers(q, { sampleEvery: H, dailySummary: { ...DAILY, cron: '15 7 * * *', channel: 'C0NEW' } }, { now: NOW });
    await reconcileMemorySchedulers(q, { sampleEvery: H }, { now: NOW });
    expect(q.calls).toEqual([`upsert ${MEMORY_SAMPLE_SCHEDULER}`, `upsert ${MEMORY_DAILY_SCHEDULER}`, `upsert ${MEMORY_DAILY_SCHEDULER}`, `remove ${MEMORY_DAILY_SCHEDULER}`]);
    expect([...q.schedulers.keys()]).toEqual([MEMORY_SAMPLE_SCHEDULER]);
  });
});

describe('config checks', () => {
  it.each(['0 9 * * *', '*/10 * * * * *', '30 8 * * 1-5', '0 9 * * MON-FRI', '0 0 1,15 * *', '0 */6 * * *', '0 9 * jan,jul sun', '* * * * *'])('accepts the cron %j', (cron) => {
    expect(isValidCronPattern(cron)).toBe(true);
  });

  it.each(['', '0 9 * *', '0 9 * * * * *', '60 9 * * *', '0 24 * * *', '0 9 0 * *', '0 9 * 13 *', '0 9 * * 8', '0 9 * * mon-', '*/0 * * * *', 'a b c d e', '0 9 * * * ;reboot', '5-1 * * * *'])('refuses the cron %j', (cron) => {
    expect(isValidCronPattern(cron)).toBe(false);
  });

  it('time zones', () => {
    expect(isKnownTimeZone('Europe/Moscow')).toBe(true);
    expect(isKnownTimeZone('UTC')).toBe(true);
    expect(isKnownTimeZone('Mars/Olympus')).toBe(false);
  });

  it('a bad cron, zone or threshold stops the config with its YAML path', () => {
    const text = (memory: string) => `
memory: ${memory}
clusters: [{ name: orcl, vips: [{ name: p, instance: VI_P, address: 198.51.100.100 }], nodes: [{ name: node1, host: 198.51.100.1 }] }]
`;
    const problems = (memory: string) => {
      try {
        parseConfigText(text(memory));
        return [];
      } catch (err) {
        return (err as { problems: Array<{ path: string }> }).problems.map((p) => p.path);
      }
    };
    expect(problems('{ dailySummary: { cron: "0 9 * *", timezone: Mars/Base } }')).toEqual(['memory.dailySummary.cron', 'memory.dailySummary.timezone']);
    expect(problems('{ thresholds: { minSamples: 1 } }')).toEqual(['memory.thresholds.minSamples']);
    expect(problems('{ thresholds: { leakMinR2: 0.9, typo: 1 } }')).toEqual(['memory.thresholds']);
    expect(parseConfigText(text('{ thresholds: { leakMinR2: 0.9 } }')).memory.thresholds).toMatchObject({ leakMinR2: 0.9, minSamples: 6 });
  });
});

describe('startSampleJob (the first sample of a fresh install)', () => {
  const H = 3_600_000;
  it.each([
    ['10 past the hour: sample now, named after the next slot', Date.UTC(2026, 11, 1, 22, 10), { jobId: `memory-sample-start-${Date.UTC(2026, 11, 1, 23)}` }],
    ['10 to the hour: the slot is near, no extra round', Date.UTC(2026, 11, 1, 22, 50), undefined],
    ['exactly on a slot: taken now (the scheduler starts at the next one)', Date.UTC(2026, 11, 1, 22, 0), { jobId: `memory-sample-start-${Date.UTC(2026, 11, 1, 23)}` }],
  ])('%s', (_what, now, expected) => {
    expect(startSampleJob(now, H)).toEqual(expected);
  });
});

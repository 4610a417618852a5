/**
 * `vipbot memory import --node <node> [--tz <zone>] [--json] <mem.log> <ps_mem.log>`: loads the logs
 * of the notes' crontab into the memory history, so `/vip memory` starts with the weeks a team already
 * collected. The files may come in either order (told apart by their content), or only one of them.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { resolveNodeName } from '../commands/resolve-target.ts';
import type { VipbotConfig } from '../config/config.ts';
import { formatDuration } from '../config/duration.ts';
import type { Env } from '../env.ts';
import { VipbotError } from '../errors.ts';
import { analyseStoredSamples } from './build-memory-report.ts';
import { importCronLogs } from './import-cron-logs.ts';
import { MemoryStore } from './memory-store.ts';
import { parseDateLine } from './parse-ps-mem-log.ts';
import { formatWallTime } from './render-memory-message.ts';
import { reportTimezone } from './report-scope.ts';
import type { MemorySample } from './sample.ts';

/** Which crontab log a text is: mem.log (`systemctl status … | egrep "Active|Memory"`) or ps_mem.log (`date` + `ps aux`). */
export function classifyCronLog(text: string): 'mem' | 'ps' | undefined {
  if (/^\s*(?:Active|Memory):\s/m.test(text)) return 'mem';
  if (/^\s*USER\s+PID\s/m.test(text)) return 'ps';
  // Only to recognise `date` lines: the zone given here never dates anything.
  if (text.split('\n').some((line) => parseDateLine(line, { kind: 'offset', minutes: 0 }, 'ps_mem.log') !== undefined)) return 'ps';
  return undefined;
}

export const IMPORT_USAGE = 'usage: vipbot memory import --node <node> [--tz <zone>] [--shift-to-now] [--json] <mem.log> [ps_mem.log]';

export interface ImportOutcome {
  node: string;
  samples: MemorySample[];
  stored: number;
  expired: number;
  days: number;
}

/** The samples moved in time so the last one is at `now` (start times move with them). */
export function shiftToNow(samples: readonly MemorySample[], now: number): MemorySample[] {
  const last = samples.at(-1);
  if (!last) return [];
  const by = Math.round((now - last.t) / 1000) * 1000;
  return samples.map((s) => ({
    ...s,
    t: s.t + by,
    ...(s.startedAt !== undefined && !Number.isNaN(Date.parse(s.startedAt)) ? { startedAt: new Date(Date.parse(s.startedAt) + by).toISOString() } : {}),
  }));
}

/** Reads, imports and stores; prints a summary (or the `vip_memory` JSON with --json). Returns the exit code. */
export async function runMemoryImport(
  args: string[],
  settings: { env: Env; config: VipbotConfig },
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { node: { type: 'string' }, tz: { type: 'string' }, json: { type: 'boolean', default: false }, 'shift-to-now': { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  if (!values.node || positionals.length === 0 || positionals.length > 2) {
    io.err(`${IMPORT_USAGE}\n`);
    return 2;
  }
  const { config, env } = settings;
  const { node } = resolveNodeName(config, values.node);
  const logs: { mem?: { path: string; text: string }; ps?: { path: string; text: string } } = {};
  for (const path of positionals) {
    const text = await readFile(path, 'utf8');
    const kind = classifyCronLog(text);
    if (!kind) throw new VipbotError('memory_log_unrecognised', `${path} is neither a mem.log ("Active:"/"Memory:" lines) nor a ps_mem.log (date lines and ps aux)`, 'pass the files the notes\' crontab writes');
    if (logs[kind]) throw new VipbotError('memory_log_twice', `${logs[kind].path} and ${path} are both ${kind === 'mem' ? 'mem.log' : 'ps_mem.log'} files`, 'import one mem.log and one ps_mem.log at a time');
    logs[kind] = { path, text };
  }
  const read = importCronLogs({ node, ...(logs.mem ? { memLog: logs.mem.text } : {}), ...(logs.ps ? { psLog: logs.ps.text } : {}), ...(values.tz ? { tz: values.tz } : {}) });
  // --shift-to-now (the demo): the same series moved so its last sample is now, inside any window.
  const samples = values['shift-to-now'] ? shiftToNow(read, Date.now()) : read;
  if (samples.length === 0) throw new VipbotError('memory_log_empty', `no datable samples in ${positionals.join(', ')}`, 'mem.log needs "Active: … since …; … ago" lines; ps_mem.log needs `date` lines before each ps block');

  const from = samples[0]!.t;
  const to = samples[samples.length - 1]!.t;
  const window = { from, to, label: formatDuration(Math.max(1000, Math.round((to - from) / 1000) * 1000)) };
  const { reports, payload } = analyseStoredSamples(new Map([[node, samples]]), [node], window, config.memory.thresholds);
  const report = reports[0]!;

  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: true });
  const store = new MemoryStore(redis, env.VIPBOT_QUEUE_PREFIX, { retentionMs: config.memory.retention });
  let result;
  try {
    await redis.connect();
    result = await store.append(samples);
  } finally {
    await store.close();
    await redis.quit().catch(() => redis.disconnect());
  }

  if (values.json) {
    io.out(`${JSON.stringify({ node, samples: samples.length, stored: result.stored, expired: result.expired, vip_memory: payload }, null, 2)}\n`);
    return 0;
  }
  const zone = reportTimezone(config);
  const files = [logs.mem, logs.ps].filter((f) => f !== undefined).map((f) => basename(f.path)).join(' + ');
  const lines = [
    `Read ${samples.length} samples of ${node} from ${files}: ${formatWallTime(from, zone)} – ${formatWallTime(to, zone)} (${zone}).`,
    result.expired > 0
      ? `Stored ${result.stored}; ${result.expired} are older than memory.retention (${formatDuration(config.memory.retention)}) and were not stored — raise memory.retention to keep them.`
      : `Stored ${result.stored} in ${result.days} day key(s) under ${env.VIPBOT_QUEUE_PREFIX}:mem:${node}:*.`,
    `Verdict: ${report.verdict} — ${report.message}`,
  ];
  io.out(`${lines.join('\n')}\n`);
  return 0;
}

/**
 * From what one host printed to one MemorySample (pure: text in, a sample out). The sampler runs, per
 * host, `systemctl show` and `ps` first, then the unit cgroup's `memory.stat` (and `memory.current` /
 * `memory.usage_in_bytes` when systemd has no MemoryCurrent) and each keepalived pid's smaps_rollup;
 * this module turns those outputs into the sample and says which parts were missing.
 *
 * Missing parts are left out of the sample, never set to zero: a zero would read as "memory fell to
 * nothing" in the chart and the trend, where the truth is "not measured".
 */
import { z } from 'zod';
import { parseSystemctlShow } from '../keepalived/parse-systemctl-show.ts';
import { describeError } from '../errors.ts';
import { parseCgroupMemoryCurrent, parseMemoryStatV1, parseMemoryStatV2, parseSystemdMemoryCurrent } from './parse-cgroup-memory.ts';
import { parsePsColumns } from './parse-ps.ts';
import { withoutScriptForks } from './process-roles.ts';
import { parseSmapsRollup } from './parse-smaps-rollup.ts';
import { parseSystemdTimestamp } from './parse-systemd-status-log.ts';
import type { MemoryProcess, MemorySample } from './sample.ts';

/** Which cgroup hierarchy a host's memory controller uses. */
export const CgroupVersion = z.enum(['v1', 'v2']);
export type CgroupVersion = z.infer<typeof CgroupVersion>;

/** What `systemctl show` says about the unit, as far as memory sampling cares. */
export interface ServiceMemoryFacts {
  /** ActiveState active/reloading/activating: keepalived is (about to be) running. */
  active: boolean | undefined;
  mainPid?: number;
  memoryCurrent?: number;
  /** ExecMainStartTimestamp (else ActiveEnterTimestamp) as ISO 8601, when its zone is known. */
  startedAt?: string;
  /** The unit's cgroup path (`/system.slice/keepalived.service`); empty while the unit is down. */
  controlGroup?: string;
  nRestarts?: number;
}

const ACTIVE_STATES = new Set(['active', 'reloading', 'refreshing', 'activating']);
const INACTIVE_STATES = new Set(['inactive', 'failed', 'deactivating']);

/** Reads the memory-relevant properties; `problems` collects what could not be read (never throws). */
export function readServiceMemoryFacts(showText: string, problems: string[] = []): ServiceMemoryFacts {
  const props = parseSystemctlShow(showText);
  const state = props.ActiveState;
  const facts: ServiceMemoryFacts = { active: state === undefined ? undefined : ACTIVE_STATES.has(state) ? true : INACTIVE_STATES.has(state) ? false : undefined };
  const mainPid = /^\d+$/.test(props.MainPID ?? '') ? Number(props.MainPID) : 0;
  if (mainPid > 0) facts.mainPid = mainPid;
  const memoryCurrent = props.MemoryCurrent !== undefined ? parseSystemdMemoryCurrent(props.MemoryCurrent) : undefined;
  if (memoryCurrent !== undefined && facts.active !== false) facts.memoryCurrent = memoryCurrent;
  const stamp = [props.ExecMainStartTimestamp, props.ActiveEnterTimestamp].find((v) => v !== undefined && v.trim() !== '' && v !== 'n/a');
  if (stamp !== undefined && facts.active) {
    try {
      facts.startedAt = new Date(parseSystemdTimestamp(stamp, undefined, 'systemctl show')).toISOString();
    } catch (err) {
      // An unknown zone abbreviation: restarts are still seen through MainPID and the pids.
      problems.push(describeError(err));
    }
  }
  if (props.ControlGroup !== undefined && props.ControlGroup.startsWith('/')) facts.controlGroup = props.ControlGroup;
  if (/^\d+$/.test(props.NRestarts ?? '')) facts.nRestarts = Number(props.NRestarts);
  return facts;
}

/** Raw outputs of one host's sampling round. Absent = not run or failed (see `problems`). */
export interface MemoryReadings {
  /** Epoch ms the readings stand for. */
  t: number;
  node: string;
  systemctlShow?: string;
  /** `ps -o pid=,ppid=,rss=,vsz=,etimes=,args= -C keepalived` output (ps exits 1 with no output when none run). */
  ps?: string;
  /** The cgroup's memory.stat and which layout it came from. */
  memoryStat?: { version: CgroupVersion; text: string };
  /** memory.current (v2) or memory.usage_in_bytes (v1), read when systemd has no MemoryCurrent. */
  cgroupCurrent?: string;
  /** smaps_rollup text per pid, for the pids that could be read. */
  smaps?: ReadonlyMap<number, string>;
}

/**
 * Builds the sample. Every part that is missing or unreadable is left out (and named in `problems`);
 * only the parts that were read count. A unit known to be down gives a sample with `active: false` and
 * no processes: keepalived was down then, which is not a gap.
 */
export function assembleMemorySample(readings: MemoryReadings): { sample: MemorySample; problems: string[] } {
  const problems: string[] = [];
  const sample: MemorySample = { t: readings.t, node: readings.node, processes: [] };
  const facts = readings.systemctlShow !== undefined ? readServiceMemoryFacts(readings.systemctlShow, problems) : undefined;
  if (facts) {
    if (facts.active !== undefined) sample.active = facts.active;
    if (facts.mainPid !== undefined) sample.mainPid = facts.mainPid;
    if (facts.startedAt !== undefined) sample.startedAt = facts.startedAt;
    if (facts.memoryCurrent !== undefined) sample.unitMemory = facts.memoryCurrent;
  }
  if (sample.unitMemory === undefined && readings.cgroupCurrent !== undefined) {
    try {
      sample.unitMemory = parseCgroupMemoryCurrent(readings.cgroupCurrent);
    } catch (err) {
      problems.push(describeError(err));
    }
  }
  if (readings.memoryStat !== undefined) {
    try {
      const stat = readings.memoryStat.version === 'v2' ? parseMemoryStatV2(readings.memoryStat.text) : parseMemoryStatV1(readings.memoryStat.text);
      sample.anon = stat.anon;
      sample.file = stat.file;
    } catch (err) {
      problems.push(describeError(err));
    }
  }
  if (readings.ps !== undefined) {
    let processes: MemoryProcess[] = [];
    try {
      processes = withoutScriptForks(parsePsColumns(readings.ps));
    } catch (err) {
      problems.push(describeError(err));
    }
    for (const p of processes) {
      const text = readings.smaps?.get(p.pid);
      if (text === undefined) continue;
      try {
        const rollup = parseSmapsRollup(text);
        if (rollup.pssAnon !== undefined) p.pssAnon = rollup.pssAnon;
      } catch (err) {
        problems.push(`pid ${p.pid}: ${describeError(err)}`);
      }
    }
    sample.processes = processes;
    // ps ran and found nothing while systemd did not answer: keepalived is not running.
    if (processes.length === 0 && sample.active === undefined && problems.length === 0) sample.active = false;
  }
  return { sample, problems };
}

/** True when the sample says something about memory (a sample with nothing in it is a gap, not a reading). */
export function sampleHasReadings(sample: MemorySample): boolean {
  return sample.unitMemory !== undefined || sample.anon !== undefined || sample.processes.length > 0 || sample.active === false;
}

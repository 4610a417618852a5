/**
 * Takes one memory sample per node over SSH (the I/O side of `assemble-sample.ts`), with bounded
 * fan-out over all nodes. Two rounds per host, each a few read-only commands in parallel on the
 * pooled connection:
 *
 * 1. `systemctl show` (MemoryCurrent, MainPID, start time, ControlGroup) and `ps` for keepalived;
 * 2. the unit cgroup's `memory.stat` — cgroup v2 or v1 layout, whichever this host has (tried, then
 *    remembered per host) — and `/proc/<pid>/smaps_rollup` of each keepalived pid when readable.
 *
 * A host that cannot be reached yields no sample at all: a gap in the history, never a zero.
 */
import type { ResolvedNode, VipbotConfig } from '../config/config.ts';
import { allNodes } from '../config/config.ts';
import { describeError, VipbotError } from '../errors.ts';
import { mapWithConcurrency } from '../hosts/fan-out.ts';
import { cgroupMemoryFilePath, listKeepalivedProcesses, readCgroupMemoryFile, readSmapsRollup, serviceShow, type NodeCommand } from '../hosts/node-commands.ts';
import type { NodeRunner } from '../status/collect-node-facts.ts';
import { assembleMemorySample, readServiceMemoryFacts, sampleHasReadings, type CgroupVersion, type MemoryReadings } from './assemble-sample.ts';
import { parsePsColumns } from './parse-ps.ts';
import { withoutScriptForks } from './process-roles.ts';
import type { MemorySample } from './sample.ts';

/** Per host: which cgroup layout answered last time, so the next sample asks the right path first. */
export type CgroupVersionMemo = Map<string, CgroupVersion>;

/** How many hosts are sampled at once (each costs an SSH connection when the pool is cold). */
export const MEMORY_SAMPLE_CONCURRENCY = 16;

type Target = { name: string; host: string; ssh: ResolvedNode['ssh'] };
type RunResult = { code: number | null; stdout: string; stderr: string };

/**
 * Samples one node. Rejects (with the pool's coded error) when round 1 cannot run at all — the host
 * is down or unreachable — so the caller stores nothing for this time. Problems with the optional
 * parts (cgroup files, smaps_rollup) only leave those parts out; they are returned in `problems`.
 */
export async function collectMemorySample(
  runner: NodeRunner,
  node: ResolvedNode,
  options: { memo?: CgroupVersionMemo; signal?: AbortSignal; now?: () => number } = {},
): Promise<{ sample: MemorySample; problems: string[] }> {
  const target: Target = { name: node.node.name, host: node.node.host, ssh: node.ssh };
  const opts = options.signal ? { signal: options.signal } : {};
  const run = (cmd: NodeCommand): Promise<RunResult> => runner.run(target, cmd, opts);
  const now = options.now ?? Date.now;
  const problems: string[] = [];

  const [show, ps] = await Promise.all([run(serviceShow(node.keepalived.service)), run(listKeepalivedProcesses())]);
  // The time the host answered: a command held up by a flaky link still reports what is there now.
  const t = now();
  const readings: MemoryReadings = { t, node: node.node.name };
  if (show.code === 0) readings.systemctlShow = show.stdout;
  else problems.push(`systemctl show failed: ${firstLine(show.stderr) || `exit ${String(show.code)}`}`);
  // ps -C exits 1 with no output when no keepalived process runs: that is an answer.
  if (ps.code === 0 || (ps.code === 1 && ps.stdout.trim() === '' && ps.stderr.trim() === '')) readings.ps = ps.stdout;
  else problems.push(`ps failed: ${firstLine(ps.stderr) || `exit ${String(ps.code)}`}`);
  if (readings.systemctlShow === undefined && readings.ps === undefined) {
    throw new VipbotError('memory_sample_failed', `${node.node.name}: neither systemctl show nor ps answered (${problems.join('; ')})`, 'check that the SSH user may run them (ssh.sudo and the sudoers example)');
  }

  const facts = readings.systemctlShow !== undefined ? readServiceMemoryFacts(readings.systemctlShow) : undefined;
  const pids = readings.ps !== undefined ? safePids(readings.ps) : [];
  const controlGroup = facts?.active ? facts.controlGroup : undefined;
  const round2: Array<Promise<void>> = [];
  if (controlGroup !== undefined) {
    round2.push(readCgroup(run, node.node.name, controlGroup, facts?.memoryCurrent === undefined, options.memo).then((r) => {
      if (r.stat) readings.memoryStat = r.stat;
      if (r.current !== undefined) readings.cgroupCurrent = r.current;
      problems.push(...r.problems);
    }));
  }
  const smaps = new Map<number, string>();
  for (const pid of pids) {
    round2.push(run(readSmapsRollup(pid)).then(
      (r) => {
        // Not readable as a non-root SSH user without sudo: RSS from ps is used alone then.
        if (r.code === 0) smaps.set(pid, r.stdout);
      },
      () => undefined,
    ));
  }
  // Round 2 is optional: a connection lost here still leaves round 1's sample.
  const settled = await Promise.allSettled(round2);
  for (const s of settled) if (s.status === 'rejected') problems.push(describeError(s.reason));
  if (smaps.size > 0) readings.smaps = smaps;

  const assembled = assembleMemorySample(readings);
  if (!sampleHasReadings(assembled.sample)) {
    throw new VipbotError('memory_sample_empty', `${node.node.name}: nothing could be read (${[...problems, ...assembled.problems].join('; ')})`, 'check the node commands in the README');
  }
  return { sample: assembled.sample, problems: [...problems, ...assembled.problems] };
}

async function readCgroup(
  run: (cmd: NodeCommand) => Promise<RunResult>,
  nodeName: string,
  controlGroup: string,
  wantCurrent: boolean,
  memo: CgroupVersionMemo | undefined,
): Promise<{ stat?: { version: CgroupVersion; text: string }; current?: string; problems: string[] }> {
  const remembered = memo?.get(nodeName);
  const order: CgroupVersion[] = remembered === 'v1' ? ['v1', 'v2'] : ['v2', 'v1'];
  const problems: string[] = [];
  for (const version of order) {
    let statCmd: NodeCommand;
    let currentCmd: NodeCommand | undefined;
    try {
      statCmd = readCgroupMemoryFile(cgroupMemoryFilePath(version, controlGroup, 'stat'));
      if (wantCurrent) currentCmd = readCgroupMemoryFile(cgroupMemoryFilePath(version, controlGroup, 'current'));
    } catch (err) {
      // A ControlGroup with characters the builders refuse (systemd's \x2d escapes): say so once.
      return { problems: [describeError(err)] };
    }
    const [stat, current] = await Promise.all([run(statCmd), currentCmd ? run(currentCmd) : Promise.resolve(undefined)]);
    if (stat.code === 0) {
      memo?.set(nodeName, version);
      return { stat: { version, text: stat.stdout }, ...(current?.code === 0 ? { current: current.stdout } : {}), problems };
    }
  }
  problems.push(`no memory.stat for ${controlGroup} under /sys/fs/cgroup (v2) or /sys/fs/cgroup/memory (v1): is MemoryAccounting on for the unit?`);
  return { problems };
}

function safePids(psText: string): number[] {
  try {
    return withoutScriptForks(parsePsColumns(psText)).map((p) => p.pid);
  } catch {
    return [];
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 200) ?? '';
}

/** One sampling round over many nodes. */
export interface MemorySampleRound {
  samples: MemorySample[];
  /** Nodes that gave no sample (unreachable, or nothing readable), with why. */
  failures: Array<{ node: string; error: string }>;
  /** Nodes whose sample lacks a part, with why. */
  partial: Array<{ node: string; problems: string[] }>;
}

/** Samples the configured nodes; what jobs use (JobDeps.memory.sampler). */
export interface MemorySampler {
  sample(options?: { nodes?: readonly string[]; signal?: AbortSignal }): Promise<MemorySampleRound>;
}

/** The sampler for a config: remembers each host's cgroup layout across rounds. */
export function createMemorySampler(config: VipbotConfig, runner: NodeRunner, options: { concurrency?: number; now?: () => number } = {}): MemorySampler {
  const memo: CgroupVersionMemo = new Map();
  return {
    async sample({ nodes: names, signal } = {}) {
      const nodes = allNodes(config).filter((n) => names === undefined || names.includes(n.node.name));
      const settled = await mapWithConcurrency(
        nodes,
        options.concurrency ?? MEMORY_SAMPLE_CONCURRENCY,
        (n) => collectMemorySample(runner, n, { memo, ...(signal ? { signal } : {}), ...(options.now ? { now: options.now } : {}) }),
        signal,
      );
      const round: MemorySampleRound = { samples: [], failures: [], partial: [] };
      settled.forEach((s, i) => {
        const name = nodes[i]!.node.name;
        if (!s.ok) {
          round.failures.push({ node: name, error: describeError(s.error) });
          return;
        }
        round.samples.push(s.value.sample);
        if (s.value.problems.length > 0) round.partial.push({ node: name, problems: s.value.problems });
      });
      return round;
    },
  };
}

/**
 * The 100-host phase of `npm run bench` (issue 10): the lab at 100 hosts (50 clusters), a `vipbot bot`
 * with one and with three `vipbot worker` processes on one Redis prefix, warm `/vip status` against
 * parallel-ssh (fresh connections, the same commands) and the SshPool floor, and what one status-watch
 * round (`status: { every: 10s, channel: C0WATCH }`) costs per interval. See bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import type { LabInfo } from '../lab/lab.ts';
import { allNodes, loadConfig } from '../src/config/config.ts';
import { SshPool, sshTargetFor } from '../src/hosts/ssh-pool.ts';
import { VipStatus } from '../src/model.ts';
import type { LocalWebApi } from '../src/slack/local-web-api.ts';
import { sleep, type BotMemory, type BotProcess } from './bot-process.ts';
import { measureCpu } from './cpu.ts';
import { sumCpu, withDeployment, type Deployment } from './deployment.ts';
import { floorRound, statusWork, wrappedCommands } from './node-work.ts';
import { psshRound } from './pssh.ts';
import type { PostWatcher } from './slack.ts';
import { mb, ms, spread, summarise, type Summary } from './stats.ts';
import { statusRun, writeConfig } from './status-run.ts';
import { measureWatch, WATCH_CHANNEL, WATCH_EVERY_MS, type WatchCost } from './watch-cost.ts';

/** After labUp: keepalived's first elections and the first track-script rounds. */
const SETTLE_MS = 10_000;
const IDLE_SAMPLE_MS = 5_000;
/** A size fits when the idle lab leaves a fifth of the machine to vipbot and the bench (and the measurements finish). */
const FIT_IDLE_BUSY_PERCENT = 80;
export const SCALE_CONNECT_TIMEOUT = '10s';

export interface ScaleOptions {
  lab: LabInfo;
  tmp: string;
  webApi: LocalWebApi;
  watcher: PostWatcher;
  redisUrl: string;
  /** Sequential warm runs per deployment, parallel-ssh and floor rounds. */
  runs: number;
  /** Measured per-cluster bursts per deployment. */
  bursts: number;
  /** Watch intervals measured (after the first, cold, round and until nothing else runs). */
  watchIntervals: number;
  log: (line: string) => void;
  /** The caller's set of running processes (stopped on SIGINT). */
  live: Set<BotProcess>;
  checkInterrupted: () => void;
}

export interface DeploymentResult {
  workers: number;
  /** One `/vip status` (all clusters) → its post, warm pools. */
  warm: Summary;
  /** Bot + all workers CPU per warm status (ms; 10 ms resolution per process). */
  cpuPerStatusMs: number;
  /** One `/vip status <cluster>` per cluster, all sent at once → the last of their posts. */
  burst: Summary;
  /** CPU of each worker during the measured bursts (ms): how the burst was shared. */
  burstWorkerCpuMs: number[];
  /** Fewest SSH connections any worker held before each warm run. */
  connsBefore: number[];
  bot: BotMemory;
  workerRss: BotMemory[];
}

export interface ScaleResult {
  hosts: number;
  clusters: number;
  /** Set when the asked-for size did not fit and a smaller one was measured: why each larger one did not. */
  fallback?: string;
  /** All cores busy with the lab idle (before measuring), and during the parallel-ssh rounds. */
  idleBusy: number;
  psshBusy: number;
  pssh: Summary;
  floor: Summary;
  one: DeploymentResult;
  three: DeploymentResult;
  watch: WatchCost;
  notes: string[];
}

/**
 * Measures the first size of `sizes` that fits (reporting each that did not): the lab comes up, its
 * idle load leaves the bot a core (every host runs its two track scripts each second, on these same
 * cores), and the measurements finish. The last size is measured whatever its idle load.
 */
export async function benchScale(
  sizes: readonly number[],
  bringUp: (hosts: number) => Promise<LabInfo>,
  onLab: (lab: LabInfo | undefined) => void,
  options: Omit<ScaleOptions, 'lab'>,
): Promise<ScaleResult> {
  const refused: string[] = [];
  for (const [i, size] of sizes.entries()) {
    const last = i === sizes.length - 1;
    const refuse = (reason: string): void => {
      options.log(`scale: ${reason}; trying ${sizes[i + 1]} hosts`);
      refused.push(reason);
    };
    options.checkInterrupted();
    const t = performance.now();
    onLab(undefined); // a failed labUp takes the lab down
    let lab: LabInfo;
    try {
      lab = await bringUp(size);
    } catch (err) {
      if (last) throw err;
      refuse(`${size} hosts did not come up (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    onLab(lab);
    options.log(`scale: lab up with ${size} hosts (${((performance.now() - t) / 1000).toFixed(1)} s); ${SETTLE_MS / 1000} s to settle`);
    await sleep(SETTLE_MS);
    const idle = (await measureCpu(undefined, () => sleep(IDLE_SAMPLE_MS))).busyPercent;
    const idleText = `the idle lab keeps ${idle.toFixed(0)}% of all ${cpus().length} cores busy`;
    options.log(`scale: ${size} hosts: ${idleText}`);
    if (idle > FIT_IDLE_BUSY_PERCENT && !last) {
      refuse(`${size} hosts do not fit: ${idleText} (more than ${FIT_IDLE_BUSY_PERCENT}%)`);
      continue;
    }
    try {
      const result = await measureScale({ ...options, lab }, idle);
      return refused.length ? { ...result, fallback: refused.join('; ') } : result;
    } catch (err) {
      if ((err as Error).message === 'interrupted' || last) throw err;
      refuse(`${size} hosts could not be measured (${(err as Error).message.split('\n')[0]}; ${idleText})`);
    }
  }
  throw new Error('no scale size to try');
}

async function measureScale(o: ScaleOptions, idleBusy: number): Promise<ScaleResult> {
  const n = o.lab.hosts.length;
  const notes: string[] = [];
  // The lab's ssh.connectTimeout of 2 s also bounds opening a channel on a pooled connection; with every
  // simulated host on these two cores a channel can wait longer than that behind the others' forks.
  const ssh = { 'ssh.connectTimeout': SCALE_CONNECT_TIMEOUT };
  const warmPath = await writeConfig(o.lab, o.tmp, `scale-warm-${n}`, '1h', ssh);
  // The watch keeps the lab's idleTimeout (60 s by default, longer than the interval).
  const watchPath = await writeConfig(o.lab, o.tmp, `scale-watch-${n}`, undefined, { ...ssh, status: { every: `${WATCH_EVERY_MS / 1000}s`, channel: WATCH_CHANNEL } });
  const config = loadConfig(warmPath);
  const clusters = config.clusters.map((c) => c.name);

  o.log(`scale ${n} hosts: floor and parallel-ssh`);
  const { floor, command } = await floorAndCommand(warmPath, o.runs);
  const psshOptions = { hosts: o.lab.hosts.map((h) => h.ip), user: config.ssh.user, keyPath: o.lab.keyPath, knownHostsPath: o.lab.knownHostsPath, command };
  await psshRound(psshOptions); // warm-up: page cache for python and ssh
  const psshSamples: number[] = [];
  const psshBusy = (await measureCpu(undefined, async () => {
    for (let i = 0; i < o.runs; i++) {
      const round = await psshRound(psshOptions);
      if (round.broken.length) throw new Error(`parallel-ssh could not run the commands on ${round.broken.join(', ')}`);
      psshSamples.push(round.ms);
    }
  })).busyPercent;
  o.checkInterrupted();

  const secret = randomBytes(16).toString('hex');
  const one = await withDeployment(o, warmPath, secret, 1, (d) => measureDeployment(o, d, clusters));
  o.checkInterrupted();
  const three = await withDeployment(o, warmPath, secret, 3, (d) => measureDeployment(o, d, clusters));
  o.checkInterrupted();
  o.log(`scale ${n} hosts: status watch every ${WATCH_EVERY_MS / 1000} s, bot + 1 worker`);
  const watch = await withDeployment(o, watchPath, secret, 1, (d) => measureWatch({ redisUrl: o.redisUrl, intervals: o.watchIntervals, checkInterrupted: o.checkInterrupted }, d));
  for (const d of [one, three]) {
    if (d.connsBefore.some((c) => c !== n)) notes.push(`${d.workers} worker(s): not every warm run started with ${n} open connections per worker: ${d.connsBefore.join(' ')}`);
  }
  return { hosts: n, clusters: clusters.length, idleBusy, psshBusy, pssh: summarise(psshSamples), floor, one, three, watch, notes };
}

/** The floor over SshPool in the bench process, and the one command line parallel-ssh runs on every host. */
async function floorAndCommand(configPath: string, runs: number): Promise<{ floor: Summary; command: string }> {
  const config = loadConfig(configPath);
  const nodes = allNodes(config);
  const pool = new SshPool();
  try {
    const warmed = await pool.warm(nodes.map(sshTargetFor));
    const notOpen = warmed.flatMap((w, i) => (w.ok ? [] : [`${nodes[i]?.node.name}: ${String(w.error)}`]));
    if (notOpen.length) throw new Error(`cannot open SSH connections: ${notOpen.join('; ')}`);
    const work = await statusWork(config, pool);
    const perNode = work.map((w) => wrappedCommands(w).join('; '));
    const command = perNode[0] ?? '';
    if (perNode.some((c) => c !== command)) throw new Error('the hosts need different commands; one parallel-ssh invocation cannot run them');
    await floorRound(pool, work); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) samples.push(await floorRound(pool, work));
    return { floor: summarise(samples), command };
  } finally {
    await pool.close();
  }
}

async function measureDeployment(o: ScaleOptions, d: Deployment, clusters: readonly string[]): Promise<DeploymentResult> {
  const n = o.lab.hosts.length;
  const label = `scale ${n} hosts, ${d.workers.length} worker(s)`;
  o.log(`${label}: warming every worker's pool`);
  o.watcher.reset();
  // Several statuses at once, so that idle workers take some too, until every worker holds every host.
  for (let round = 0; round < 12; round++) {
    const held = await Promise.all(d.workers.map((w) => w.sshConnections()));
    if (held.every((c) => c >= n)) break;
    const before = o.watcher.posts.length;
    const k = 2 * d.workers.length;
    await Promise.all(Array.from({ length: k }, () => d.client.command('status')));
    await o.watcher.waitForCount(before + k, 120_000);
  }
  await statusBurst(o, d, clusters); // the per-cluster path through the JIT

  o.log(`${label}: ${o.runs} warm /vip status, then ${o.bursts} bursts of ${clusters.length} /vip status <cluster>`);
  const connsBefore: number[] = [];
  const warm: number[] = [];
  const procs = [d.bot, ...d.workers];
  const cpu0 = await sumCpu(procs);
  for (let i = 0; i < o.runs; i++) {
    connsBefore.push(Math.min(...(await Promise.all(d.workers.map((w) => w.sshConnections())))));
    warm.push((await statusRun(d.client, o.watcher, n)).ms);
  }
  const cpuPerStatusMs = ((await sumCpu(procs)) - cpu0) / o.runs;

  const burst: number[] = [];
  const w0 = await Promise.all(d.workers.map((w) => w.cpuMs()));
  for (let i = 0; i < o.bursts; i++) burst.push(await statusBurst(o, d, clusters));
  const w1 = await Promise.all(d.workers.map((w) => w.cpuMs()));
  return {
    workers: d.workers.length,
    warm: summarise(warm),
    cpuPerStatusMs,
    burst: summarise(burst),
    burstWorkerCpuMs: w1.map((v, i) => v - (w0[i] ?? 0)),
    connsBefore,
    bot: await d.bot.memory(),
    workerRss: await Promise.all(d.workers.map((w) => w.memory())),
  };
}

/** One `/vip status <cluster>` per cluster, all in flight at once; ms from the first POST to the last post. */
async function statusBurst(o: ScaleOptions, d: Deployment, clusters: readonly string[]): Promise<number> {
  const index = o.watcher.posts.length;
  const started = performance.now();
  const answers = await Promise.all(clusters.map((name) => d.client.command(`status ${name}`)));
  const refused = answers.filter((a) => a.status !== 200 || !a.body.includes('Checking'));
  if (refused.length) throw new Error(`${refused.length} of ${clusters.length} /vip status <cluster> were refused (first: ${refused[0]?.status} ${refused[0]?.body.slice(0, 120)})`);
  await o.watcher.waitForCount(index + clusters.length, 120_000);
  const posts = o.watcher.posts.slice(index, index + clusters.length);
  const seen = posts.flatMap((p) => {
    const payload = VipStatus.safeParse((p.call.args.metadata as { event_payload?: unknown } | undefined)?.event_payload);
    if (!payload.success) return ['(unreadable payload)'];
    const bad = payload.data.clusters.flatMap((c) => c.nodes).filter((node) => !node.reachable);
    return bad.length ? [`unreachable ${bad.map((b) => b.name).join(',')}`] : payload.data.clusters.map((c) => c.name);
  });
  const missing = clusters.filter((c) => !seen.includes(c));
  if (missing.length || seen.length !== clusters.length) throw new Error(`the burst's posts did not cover each cluster once (missing ${missing.join(', ') || 'none'}; got ${seen.length})`);
  return Math.max(...posts.map((p) => p.at)) - started;
}

// ---------------------------------------------------------------------------------------------
// Targets and the table

export interface ScaleTarget { name: string; pass: boolean; value: string }

export function scaleTargets(r: ScaleResult): ScaleTarget[] {
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)} x`;
  return [
    { name: 'warm status, 1 worker <= parallel-ssh', pass: r.one.warm.median <= r.pssh.median, value: ratio(r.one.warm.median, r.pssh.median) },
    { name: 'warm status, 3 workers <= parallel-ssh', pass: r.three.warm.median <= r.pssh.median, value: ratio(r.three.warm.median, r.pssh.median) },
    { name: 'per-cluster burst, 3 workers <= parallel-ssh', pass: r.three.burst.median <= r.pssh.median, value: ratio(r.three.burst.median, r.pssh.median) },
    { name: `watch round < its interval (${WATCH_EVERY_MS / 1000} s)`, pass: r.watch.round.max < WATCH_EVERY_MS, value: `max ${ms(r.watch.round.max)}` },
  ];
}

export function renderScaleTable(r: ScaleResult, runs: number, bursts: number): string {
  const pct = (cpuMs: number): string => `${cpuMs.toFixed(0)} ms (${((100 * cpuMs) / WATCH_EVERY_MS).toFixed(1)}% of a core)`;
  const perDeployment: Array<[string, (d: DeploymentResult) => string]> = [
    [`/vip status (all ${r.hosts} hosts) -> post, WARM (median of ${runs}, min-max)`, (d) => spread(d.warm)],
    ['  bot + worker CPU per warm status', (d) => `${d.cpuPerStatusMs.toFixed(0)} ms`],
    [`burst: ${r.clusters} x /vip status <cluster> at once -> last post (median of ${bursts})`, (d) => spread(d.burst)],
    ['  CPU of each worker over the bursts', (d) => d.burstWorkerCpuMs.map((c) => c.toFixed(0)).join(' / ') + ' ms'],
    ['SSH conns per worker before warm runs (fewest)', (d) => [...new Set(d.connsBefore)].join(',')],
    ['bot VmRSS / worker VmRSS (each)', (d) => `${mb(d.bot.vmRssKib)} / ${d.workerRss.map((w) => mb(w.vmRssKib).replace(' MB', '')).join(', ')} MB`],
  ];
  const rows: string[][] = [
    ['', '1 worker', '3 workers'],
    ...perDeployment.map(([label, f]) => [label, f(r.one), f(r.three)]),
    [`parallel-ssh, fresh connections, all ${r.hosts} hosts (median of ${runs})`, spread(r.pssh), ''],
    [`floor: SshPool over open connections (median of ${runs})`, spread(r.floor), ''],
    ['all cores busy: idle lab before measuring / during parallel-ssh', `${r.idleBusy.toFixed(0)}% / ${r.psshBusy.toFixed(0)}%`, ''],
    [`status watch, every ${WATCH_EVERY_MS / 1000} s, 1 worker: round (median of ${r.watch.rounds}, min-max)`, spread(r.watch.round), ''],
    ['  first round (cold pool, start-up sample beside it)', ms(r.watch.firstRoundMs), ''],
    ['  worker CPU per interval (median)', pct(r.watch.workerCpuMs.median), ''],
    ['  bot CPU per interval (median)', pct(r.watch.botCpuMs.median), ''],
    ['  interval measured (median) / rounds that posted', `${ms(r.watch.intervalMs.median)} / ${r.watch.posted} of ${r.watch.rounds}`, ''],
  ];
  const targetRows = scaleTargets(r).map((t) => [t.name, `${t.pass ? 'PASS' : 'FAIL'} ${t.value}`, '']);
  const all = [...rows, ...targetRows];
  const widths = [0, 1, 2].map((c) => Math.max(...all.map((row) => (row[c] ?? '').length)));
  const fmt = (row: string[]): string => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ').trimEnd();
  const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 6);
  const title = `scale (issue 10): ${r.hosts} hosts, ${r.clusters} clusters; a vipbot bot + separate vipbot worker processes on one Redis; ssh.connectTimeout ${SCALE_CONNECT_TIMEOUT}`;
  return [
    title,
    ...(r.fallback ? [`FALLBACK: measured at ${r.hosts} hosts, the largest that fit: ${r.fallback}`] : []),
    rule, fmt(rows[0]!), rule, ...rows.slice(1).map(fmt), rule, fmt(['targets', '', '']), ...targetRows.map(fmt), rule,
    ...r.notes.map((note) => `note: ${note}`),
    '',
  ].join('\n');
}

/**
 * `npm run bench` (run it as `flock /tmp/vipbot-lab-usage.lock npm run bench`): latency and memory of
 * vipbot against the lab, for 2 and 20 hosts, in one run. See bench/README.md for what each figure
 * means and how it is measured.
 *
 * Environment: BENCH_QUICK=1 (fewer iterations, for development), BENCH_SIZES=2,20 (lab sizes),
 * BENCH_STRICT=1 (exit 1 when a target fails), BENCH_SCALE=0 (skip the 100-host phase, issue 10),
 * BENCH_SCALE_HOSTS=100 (its size). Traffic goes to loopback (bot, Slack stand-in, Redis)
 * and to the lab hosts only. The lab is left as found: the size it had, or down.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { labCpuShares, labDown, labInfo, labUp, type LabInfo } from '../lab/lab.ts';
import { MAX_HOSTS } from '../lab/topology.ts';
import { allNodes, loadConfig } from '../src/config/config.ts';
import { SshPool, sshTargetFor } from '../src/hosts/ssh-pool.ts';
import { READ_QUEUE } from '../src/queue/job-queue.ts';
import { LocalWebApi } from '../src/slack/local-web-api.ts';
import { measureRedisBytesPerHostYear } from '../src/memory/memory-store.ts';
import { timeMemoryReport } from '../src/memory/build-memory-report.ts';
import { BotProcess, sleep, type BotMemory } from './bot-process.ts';
import { benchPromote, formatPromoteRows, type PromoteRun } from './promote.ts';
import { benchAckRedisDown, formatRedisDownRow, REDIS_DOWN_P99_TARGET_MS, type RedisDownAcks } from './redis-down.ts';
import { measureCpu, type ThreadSched } from './cpu.ts';
import { floorRound, statusWork, wrappedCommands } from './node-work.ts';
import { psshRound } from './pssh.ts';
import { benchScale, renderScaleTable, scaleTargets, type ScaleResult } from './scale.ts';
import { PostWatcher, SlashClient } from './slack.ts';
import { statusRun, withBotTail, writeConfig, type StatusTiming } from './status-run.ts';
import { mb, median, ms, percentile, spread, summarise, type Summary } from './stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const STRICT = process.env.BENCH_STRICT === '1';
const SIZES = parseSizes(process.env.BENCH_SIZES ?? '2,20');
/** The 100-host phase (issue 10) after everything else; BENCH_SCALE=0 skips it. Smaller sizes only if the first does not come up. */
const SCALE_SIZES = process.env.BENCH_SCALE === '0' ? [] : scaleSizes(process.env.BENCH_SCALE_HOSTS ?? '100');
const SCALE_BURSTS = QUICK ? 2 : 5;
const SCALE_WATCH_INTERVALS = QUICK ? 2 : 4;
/** Loopback only, whatever the environment says. */
const REDIS_URL = 'redis://127.0.0.1:6379';
const ACK_REQUESTS = QUICK ? 40 : 200;
const ACK_CONCURRENCY = 20;
/** `/vip help` acks sent before the measured burst: the path minus queueing, through the JIT. */
const ACK_WARMUP = QUICK ? 40 : 100;
const RUNS = QUICK ? 3 : 10;
/** Cold runs: ssh.idleTimeout in the cold bot's config, and the least wait between runs. */
const COLD_IDLE = '1s';
const COLD_GAP_MS = 1_500;
const WARM_IDLE = '1h';
const DRAIN_TIMEOUT_MS = 300_000;
/**
 * CPU weight of the whole lab during the ack bursts (the bot's process weighs 1024): the hosts stand
 * in for other machines, so the jobs they run must not take the CPU the bot answers Slack with (see
 * lab/README.md, "CPU"). Status timings are measured unconfined: there the lab's work *is* the
 * measured work, and a low weight would slow every host command the bot waits for.
 */
const LAB_CPU_SHARES = 64;

interface SizeResult {
  hosts: number;
  ack: Burst & { drainMs: number; failedJobs: number };
  /** The `/vip help` warm-up burst right after the bot started (JIT): shown, not a target. */
  ackWarmup: Burst;
  /** Diagnostic: the ack burst with no worker in the process and no jobs running. */
  ackNoWorker: Burst;
  /** Diagnostic: the measured burst again (another `vipbot all`), with the lab's processes unconfined. */
  ackUnconfined: Burst & { drainMs: number };
  /** How the lab's CPU was confined during the measurements (or why it could not be). */
  labCpu: string;
  warm: Summary;
  cold: Summary;
  pssh: Summary;
  floor: Summary;
  warmBot: BotMemory;
  coldBot: BotMemory;
  /** All cores busy during the floor rounds and the parallel-ssh rounds. */
  floorBusy: number;
  psshBusy: number;
  warmParts: Breakdown[];
  coldParts: Breakdown[];
  /** Pooled SSH connections the bot held just before each run. */
  warmConnsBefore: number[];
  coldConnsBefore: number[];
  notes: string[];
}

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

const liveBots = new Set<BotProcess>();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: stopping the bot and restoring the lab (again to exit at once)`);
    // Killing the bot makes whatever waits on it fail, which unwinds into the cleanup below.
    for (const bot of liveBots) void bot.stop(2_000).catch(() => undefined);
  });
}

function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

async function main(): Promise<number> {
  const started = performance.now();
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (the lab uses network namespaces); run it as root under flock /tmp/vipbot-lab-usage.lock');
  await pingRedis();

  const before = await labInfo();
  const previousCount = before?.hosts.length;
  // Start with the size the lab already has: one lab up fewer.
  const sizes = previousCount !== undefined && SIZES.includes(previousCount) ? [previousCount, ...SIZES.filter((s) => s !== previousCount)] : SIZES;
  log(`lab before: ${previousCount === undefined ? 'down' : `${previousCount} host(s)`}; sizes ${sizes.join(', ')}; ${QUICK ? 'QUICK: ' : ''}${ACK_REQUESTS} acks, ${RUNS} runs each`);

  const tmp = await mkdtemp(join(tmpdir(), 'vipbot-bench-'));
  const webApi = await new LocalWebApi({ botUserId: 'U0VIPBOT', userGroups: {} }).start();
  const watcher = new PostWatcher(webApi);
  const results: SizeResult[] = [];
  let promoteRuns: PromoteRun[] = [];
  let memoryFigures: string[] = [];
  let redisDown: RedisDownAcks | undefined;
  let scale: ScaleResult | undefined;
  let current = before;
  let failure: unknown;
  try {
    for (const size of sizes) {
      checkInterrupted();
      if (!current || current.hosts.length !== size) {
        const t = performance.now();
        current = await labUp(size);
        log(`lab up with ${size} hosts (${((performance.now() - t) / 1000).toFixed(1)} s)`);
      }
      results.push(await benchSize(current, tmp, webApi, watcher));
    }
    checkInterrupted();
    if (current) {
      log('promote: the notes\' failover scenario on cluster orcl, apply reload and restart');
      promoteRuns = await benchPromote(current.configPath, REDIS_URL, log);
    }
    if (current) {
      log('redis-down: ack latency of /vip status with the bot\'s own Redis stopped (issue 8)');
      redisDown = await benchAckRedisDown(current.configPath, randomBytes(16).toString('hex'), webApi, log);
    }
    log('memory: 7-day report + chart for 20 hosts; Redis bytes per host-year');
    memoryFigures = await benchMemory();
    if (SCALE_SIZES.length) {
      log(`scale (issue 10): ${SCALE_SIZES[0]} hosts, vipbot bot with 1 and 3 vipbot workers, parallel-ssh, the status watch`);
      const scaleOptions = { tmp, webApi, watcher, redisUrl: REDIS_URL, runs: RUNS, bursts: SCALE_BURSTS, watchIntervals: SCALE_WATCH_INTERVALS, log, live: liveBots, checkInterrupted };
      scale = await benchScale(SCALE_SIZES, (n) => labUp(n), (lab) => { current = lab; }, scaleOptions);
    }
  } catch (err) {
    failure = err;
  } finally {
    watcher.close();
    await webApi.stop();
    await rm(tmp, { recursive: true, force: true });
    // The lab is shared: leave its CPU as lab up does (unconfined), whatever happened.
    if (current) await labCpuShares('unconfined').catch((err: unknown) => log(`could not unconfine the lab's CPU: ${(err as Error).message}`));
    try {
      if (previousCount === undefined) {
        await labDown();
        log('lab down (it was down before)');
      } else if (current?.hosts.length !== previousCount) {
        await labUp(previousCount);
        log(`lab back to ${previousCount} host(s)`);
      } else {
        log(`lab left up with ${previousCount} host(s), as found`);
      }
    } catch (err) {
      log(`could not restore the lab: ${(err as Error).message}`);
      failure ??= err;
    }
  }
  const totalS = (performance.now() - started) / 1000;
  if (results.length) process.stdout.write(renderTable(results, totalS));
  if (promoteRuns.length) process.stdout.write(`${['promote (issue 3): approval -> VIP settled; 50 ms probe of both hosts during the change', ...formatPromoteRows(promoteRuns)].join('\n')}\n\n`);
  if (redisDown) process.stdout.write(`faults (issue 8)\n${formatRedisDownRow(redisDown)}\n\n`);
  if (memoryFigures.length) process.stdout.write(`${['memory (issue 4)', ...memoryFigures].join('\n')}\n\n`);
  if (scale) process.stdout.write(renderScaleTable(scale, RUNS, SCALE_BURSTS));
  if (failure) throw failure;
  const failed = [...results.flatMap((r) => targets(r)), ...(scale ? scaleTargets(scale) : [])].filter((t) => !t.pass);
  const redisDownFailed = redisDown !== undefined && (redisDown.p99 >= REDIS_DOWN_P99_TARGET_MS || redisDown.wrong > 0);
  return STRICT && (failed.length || redisDownFailed) ? 1 : 0;
}

/** Issue 4's figures: report + chart build time for 20 hosts × 7 days, Redis bytes per host-year. */
async function benchMemory(): Promise<string[]> {
  const timing = await timeMemoryReport({ hosts: 20 });
  const redis = new Redis(REDIS_URL);
  const prefix = `vipbot-bench-${randomBytes(4).toString('hex')}`;
  try {
    const year = await measureRedisBytesPerHostYear(redis, prefix);
    return [
      `7-day report + chart, 20 hosts (${timing.samples} samples): total ${timing.totalMs.toFixed(0)} ms (analyse ${timing.analyseMs.toFixed(0)}, message ${timing.messageMs.toFixed(0)}, chart ${timing.chartMs.toFixed(0)} ms; PNG ${(timing.pngBytes / 1024).toFixed(0)} KiB; event loop held at most ${timing.maxEventLoopBlockMs.toFixed(0)} ms)`,
      `Redis per host-year of hourly samples: ${year.samples} samples in ${year.keys} keys, ${(year.payloadBytes / 1024).toFixed(0)} KiB payload, ${(year.redisBytes / 1024).toFixed(0)} KiB in Redis (${year.bytesPerSample.toFixed(1)} B/sample); 200 hosts: ${year.mibFor200Hosts.toFixed(1)} MiB`,
    ];
  } finally {
    await redis.quit();
  }
}

async function benchSize(lab: LabInfo, tmp: string, webApi: LocalWebApi, watcher: PostWatcher): Promise<SizeResult> {
  const n = lab.hosts.length;
  const notes: string[] = [];
  const warmPath = await writeConfig(lab, tmp, `warm-${n}`, WARM_IDLE);
  const coldPath = await writeConfig(lab, tmp, `cold-${n}`, COLD_IDLE);
  const config = loadConfig(warmPath);
  const nodes = allNodes(config);
  // Checked once up front (and undone): whether the ack bursts can run with the lab confined.
  const labCpu = await confineLab();
  await labCpuShares('unconfined');
  if (!labCpu.confined) notes.push(`the lab could not be confined (${labCpu.text}): the ack bursts have the lab competing for the bot's CPU`);

  // --- the floor: the bot's SSH layer alone over open connections --------------------------------
  log(`${n} hosts: floor (SshPool in the bench process, connections open)`);
  const pool = new SshPool();
  let floorSamples: number[];
  let floorBusy: number;
  let command: string;
  try {
    const warmed = await pool.warm(nodes.map(sshTargetFor));
    const notOpen = warmed.map((w, i) => (w.ok ? undefined : `${nodes[i]?.node.name}: ${String(w.error)}`)).filter((x) => x !== undefined);
    if (notOpen.length) throw new Error(`cannot open SSH connections: ${notOpen.join('; ')}`);
    const work = await statusWork(config, pool);
    const perNode = work.map((w) => wrappedCommands(w).join('; '));
    command = perNode[0] ?? '';
    if (perNode.some((c) => c !== command)) throw new Error('the hosts need different commands; one parallel-ssh invocation cannot run them');
    const perHost = work[0]?.commands.length ?? 0;
    notes.push(`${perHost} node commands per host (${work[0]?.commands.map((c) => c.id).join(', ')})`);
    await floorRound(pool, work); // warm-up: JIT, first channels
    floorSamples = [];
    const samples = floorSamples;
    floorBusy = (await measureCpu(undefined, async () => {
      for (let i = 0; i < RUNS; i++) samples.push(await floorRound(pool, work));
    })).busyPercent;
    const stats = pool.stats();
    if (stats.connectAttempts !== n) notes.push(`floor pool made ${stats.connectAttempts} connection attempts for ${n} hosts`);
  } finally {
    await pool.close();
  }
  checkInterrupted();

  // --- parallel-ssh: fresh connections every round ------------------------------------------------
  log(`${n} hosts: parallel-ssh`);
  const psshOptions = { hosts: lab.hosts.map((h) => h.ip), user: config.ssh.user, keyPath: lab.keyPath, knownHostsPath: lab.knownHostsPath, command };
  await psshRound(psshOptions); // warm-up: page cache for python and ssh
  const psshSamples: number[] = [];
  const psshBusy = (await measureCpu(undefined, async () => {
    for (let i = 0; i < RUNS; i++) {
      const round = await psshRound(psshOptions);
      if (round.broken.length) throw new Error(`parallel-ssh could not run the commands on ${round.broken.join(', ')}`);
      psshSamples.push(round.ms);
    }
  })).busyPercent;
  checkInterrupted();

  const secret = randomBytes(16).toString('hex');

  log(`${n} hosts: ack burst against \`vipbot bot\` alone (no worker; diagnostic)`);
  if (labCpu.confined) await confineLab();
  const ackNoWorker = await ackWithoutWorker(warmPath, secret, webApi);
  await labCpuShares('unconfined');
  checkInterrupted();

  let ackUnconfined: SizeResult['ackUnconfined'];
  if (labCpu.confined) {
    log(`${n} hosts: ack burst with the lab unconfined (diagnostic)`);
    ackUnconfined = await ackWithLabUnconfined(warmPath, secret, webApi, watcher, n);
  } else {
    ackUnconfined = { p50: Number.NaN, p99: Number.NaN, max: Number.NaN, n: 0, wallMs: Number.NaN, busyPercent: Number.NaN, drainMs: Number.NaN };
  }
  checkInterrupted();

  // --- warm bot: ack latency, then warm status -------------------------------------------------------
  log(`${n} hosts: bot with ssh.idleTimeout ${WARM_IDLE}: ${ACK_REQUESTS} acks, then warm status`);
  const warmBot = new BotProcess({ configPath: warmPath, redisUrl: REDIS_URL, slackApiUrl: webApi.url, signingSecret: secret });
  liveBots.add(warmBot);
  let ack: SizeResult['ack'];
  let ackWarmup: Burst;
  const warmSamples: number[] = [];
  let warmParts: Breakdown[] = [];
  const warmConnsBefore: number[] = [];
  let warmMem: BotMemory;
  try {
    await warmBot.start();
    const client = new SlashClient(warmBot.url, secret, webApi.responseUrl, ACK_CONCURRENCY);
    try {
      watcher.reset();
      // Warm-up, not measured: one status (opens the pool, loads BullMQ's scripts), then `/vip help`
      // acks through the same HTTP, signature, Bolt and dispatcher code (the JIT of a fresh process).
      await statusRun(client, watcher, n);
      ackWarmup = await burst(client, 'help', ACK_WARMUP, 'status');
      if (labCpu.confined) await confineLab();
      try {
        ack = await ackPhase(warmBot, client, watcher);
      } finally {
        await labCpuShares('unconfined');
      }
      if (ack.failedJobs) notes.push(`${ack.failedJobs} status job(s) failed during the ack phase`);
      watcher.reset();
      const timings: StatusTiming[] = [];
      for (let i = 0; i < RUNS; i++) {
        warmConnsBefore.push(await warmBot.sshConnections());
        timings.push(await statusRun(client, watcher, n));
      }
      warmSamples.push(...timings.map((t) => t.ms));
      warmParts = await breakdown(warmBot.prefix, timings);
    } finally {
      client.close();
    }
    warmMem = await warmBot.memory();
  } catch (err) {
    throw withBotTail(err, warmBot);
  } finally {
    await warmBot.stop();
    liveBots.delete(warmBot);
  }
  if (warmConnsBefore.some((c) => c !== n)) notes.push(`warm runs did not all start with ${n} open connections: ${warmConnsBefore.join(' ')}`);
  checkInterrupted();

  // --- cold bot: every run starts with no open SSH connection --------------------------------------
  log(`${n} hosts: bot with ssh.idleTimeout ${COLD_IDLE}: cold status`);
  const coldBot = new BotProcess({ configPath: coldPath, redisUrl: REDIS_URL, slackApiUrl: webApi.url, signingSecret: secret });
  liveBots.add(coldBot);
  const coldSamples: number[] = [];
  let coldParts: Breakdown[] = [];
  const coldConnsBefore: number[] = [];
  let coldMem: BotMemory;
  try {
    await coldBot.start();
    const client = new SlashClient(coldBot.url, secret, webApi.responseUrl, 1);
    try {
      watcher.reset();
      await statusRun(client, watcher, n); // JIT warm-up of the process, not of the pool
      const timings: StatusTiming[] = [];
      for (let i = 0; i < RUNS; i++) {
        coldConnsBefore.push(await waitForColdPool(coldBot));
        timings.push(await statusRun(client, watcher, n));
      }
      coldSamples.push(...timings.map((t) => t.ms));
      coldParts = await breakdown(coldBot.prefix, timings);
    } finally {
      client.close();
    }
    coldMem = await coldBot.memory();
  } catch (err) {
    throw withBotTail(err, coldBot);
  } finally {
    await coldBot.stop();
    liveBots.delete(coldBot);
  }
  if (coldConnsBefore.some((c) => c !== 0)) notes.push(`cold runs did not all start with 0 open connections: ${coldConnsBefore.join(' ')}`);

  return {
    hosts: n,
    ack,
    ackWarmup,
    ackNoWorker,
    ackUnconfined,
    labCpu: labCpu.text,
    warm: summarise(warmSamples),
    cold: summarise(coldSamples),
    pssh: summarise(psshSamples),
    floor: summarise(floorSamples),
    warmBot: warmMem,
    coldBot: coldMem,
    floorBusy,
    psshBusy,
    warmParts,
    coldParts,
    warmConnsBefore,
    coldConnsBefore,
    notes,
  };
}

interface Burst {
  p50: number;
  p99: number;
  max: number;
  n: number;
  wallMs: number;
  /** All cores, during the burst. */
  busyPercent: number;
  /** The bot's main thread during the burst. */
  thread?: ThreadSched;
}

/** `count` signed `/vip <text>` POSTs, ACK_CONCURRENCY in flight (closed loop); request → full response, ms. */
async function burst(client: SlashClient, text: string, count: number, expect: string, botPid?: number): Promise<Burst> {
  const latencies: number[] = [];
  const problems: string[] = [];
  let next = 0;
  const started = performance.now();
  const cpu = await measureCpu(botPid, () => Promise.all(Array.from({ length: ACK_CONCURRENCY }, async () => {
    while (next < count) {
      next++;
      const res = await client.command(text);
      latencies.push(res.latencyMs);
      if (res.status !== 200 || !res.body.includes(expect)) problems.push(`${res.status} ${res.body.slice(0, 120)}`);
    }
  })));
  const wallMs = performance.now() - started;
  if (problems.length) throw new Error(`${problems.length} of ${count} answers to /vip ${text} were not "${expect}" (first: ${problems[0]})`);
  return {
    p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), n: latencies.length, wallMs,
    busyPercent: cpu.busyPercent, ...(cpu.thread ? { thread: cpu.thread } : {}),
  };
}

/** The measured ack burst of `/vip status`; then waits until every job has posted and the queue is empty. */
async function ackPhase(bot: BotProcess, client: SlashClient, watcher: PostWatcher): Promise<SizeResult['ack']> {
  watcher.reset();
  const started = performance.now();
  const acks = await burst(client, 'status', ACK_REQUESTS, 'Checking', bot.pid);
  // Drain: every queued job has posted its message, and the queue says nothing is left.
  await watcher.waitForCount(ACK_REQUESTS, DRAIN_TIMEOUT_MS);
  // A job posts before BullMQ marks it completed: poll until nothing is left (bounded). Delayed jobs
  // count only when they are status retries; the memory sampler and daily summary wait there by design.
  const deadline = Date.now() + 30_000;
  let counts = await queueCounts(bot.prefix);
  const left = (c: QueueCounts): number => (c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) + c.delayedStatus;
  while (left(counts) > 0 && Date.now() < deadline) {
    await sleep(50);
    counts = await queueCounts(bot.prefix);
  }
  if (left(counts) > 0) throw new Error(`the queue still has ${left(counts)} status job(s) 30 s after all posts arrived: ${JSON.stringify(counts)}`);
  const drainMs = performance.now() - started;
  return { ...acks, drainMs, failedJobs: counts.failed ?? 0 };
}

/**
 * Diagnostic, not a target: the same ack burst against `vipbot bot` (no worker), so no job runs while
 * the acks are measured. The jobs stay queued under this process's prefix and are deleted with it.
 */
async function ackWithoutWorker(configPath: string, secret: string, webApi: LocalWebApi): Promise<Burst> {
  return withShortLivedBot({ configPath, secret, webApi, role: 'bot' }, async (bot, client) => {
    await burst(client, 'help', ACK_WARMUP, 'status');
    return burst(client, 'status', ACK_REQUESTS, 'Checking', bot.pid);
  });
}

/** Diagnostic, not a target: the measured burst on a second `vipbot all` while the lab is unconfined. */
async function ackWithLabUnconfined(configPath: string, secret: string, webApi: LocalWebApi, watcher: PostWatcher, hosts: number): Promise<SizeResult['ackUnconfined']> {
  return withShortLivedBot({ configPath, secret, webApi, role: 'all' }, async (bot, client) => {
    await statusRun(client, watcher, hosts);
    await burst(client, 'help', ACK_WARMUP, 'status');
    const { failedJobs: _failed, ...acks } = await ackPhase(bot, client, watcher);
    return acks;
  });
}

/** Starts a bot process for one diagnostic, hands it and a client to `fn`, and always stops it. */
async function withShortLivedBot<T>(
  options: { configPath: string; secret: string; webApi: LocalWebApi; role: 'all' | 'bot' },
  fn: (bot: BotProcess, client: SlashClient) => Promise<T>,
): Promise<T> {
  const { configPath, secret, webApi, role } = options;
  const bot = new BotProcess({ configPath, redisUrl: REDIS_URL, slackApiUrl: webApi.url, signingSecret: secret, role });
  liveBots.add(bot);
  try {
    await bot.start();
    const client = new SlashClient(bot.url, secret, webApi.responseUrl, ACK_CONCURRENCY);
    try {
      return await fn(bot, client);
    } finally {
      client.close();
    }
  } catch (err) {
    throw withBotTail(err, bot);
  } finally {
    await bot.stop();
    liveBots.delete(bot);
  }
}

/** Gives the whole lab LAB_CPU_SHARES; says what it did (or why it could not). */
async function confineLab(): Promise<{ confined: boolean; text: string }> {
  const result = await labCpuShares(LAB_CPU_SHARES);
  if (result.reason) return { confined: false, text: result.reason };
  return { confined: true, text: `cpu.shares ${LAB_CPU_SHARES} for the whole lab (bot process: 1024)` };
}

/** Where a status's time went, per run, from the bench clock and the job's BullMQ timestamps (ms, 1 ms resolution). */
interface Breakdown {
  /** POST sent → job created in the bot (HTTP, signature, Bolt, dispatcher). */
  toEnqueue: number;
  /** Job created → worker started it (Redis add, worker pickup). */
  queueWait: number;
  /** Worker started it → post received (SSH fan-out, analysis, rendering, chat.postMessage). */
  jobToPost: number;
  /** POST sent → ack received. */
  ack: number;
}

async function breakdown(prefix: string, runs: readonly StatusTiming[]): Promise<Breakdown[]> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(READ_QUEUE, { connection, prefix });
  try {
    const jobs = await queue.getJobs(['completed'], 0, runs.length + 5);
    return runs.flatMap((run) => {
      const job = jobs.find((j) => j.timestamp >= run.startEpoch - 1 && j.timestamp <= run.postEpoch && j.processedOn !== undefined);
      if (!job || job.processedOn === undefined) return [];
      return [{ toEnqueue: job.timestamp - run.startEpoch, queueWait: job.processedOn - job.timestamp, jobToPost: run.postEpoch - job.processedOn, ack: run.ackMs }];
    });
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** Waits at least COLD_GAP_MS, then until the bot holds no SSH connection (bounded); returns the count seen. */
async function waitForColdPool(bot: BotProcess): Promise<number> {
  await sleep(COLD_GAP_MS);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await bot.sshConnections();
    if (open === 0 || Date.now() > deadline) return open;
    await sleep(50);
  }
}

type QueueCounts = Record<string, number> & { delayedStatus: number };

async function queueCounts(prefix: string): Promise<QueueCounts> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(READ_QUEUE, { connection, prefix });
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
    const delayed = counts.delayed ? await queue.getJobs(['delayed'], 0, 1000) : [];
    return { ...counts, delayedStatus: delayed.filter((j) => j.name === 'status').length };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

async function pingRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 2_000, lazyConnect: true, retryStrategy: () => null });
  try {
    await redis.connect();
    if ((await redis.ping()) !== 'PONG') throw new Error('no PONG');
  } catch (err) {
    throw new Error(`Redis is not answering at ${REDIS_URL} (${(err as Error).message}); start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`);
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// The table

interface Target { name: string; pass: boolean; value: string }

function targets(r: SizeResult): Target[] {
  const warmVsFloor = r.warm.median / r.floor.median;
  const warmVsPssh = r.warm.median / r.pssh.median;
  const coldVsPssh = r.cold.median / r.pssh.median;
  const rss = Math.max(r.warmBot.vmRssKib, r.coldBot.vmRssKib);
  return [
    { name: 'ack p99 < 50 ms', pass: r.ack.p99 < 50, value: ms(r.ack.p99) },
    { name: 'warm status <= 1.25 x floor', pass: warmVsFloor <= 1.25, value: `${warmVsFloor.toFixed(2)} x` },
    { name: 'warm status <= 1/3 parallel-ssh', pass: warmVsPssh <= 1 / 3, value: `${warmVsPssh.toFixed(2)} x` },
    { name: 'cold status <= parallel-ssh', pass: coldVsPssh <= 1, value: `${coldVsPssh.toFixed(2)} x` },
    { name: 'bot RSS < 200 MB', pass: rss * 1024 < 200e6, value: mb(rss) },
  ];
}

function renderTable(results: SizeResult[], totalS: number): string {
  const header = ['', ...results.map((r) => `${r.hosts} hosts`)];
  const row = (label: string, f: (r: SizeResult) => string): string[] => [label, ...results.map(f)];
  const rows: string[][] = [
    row(`ack p50 (${ACK_REQUESTS} signed POSTs, ${ACK_CONCURRENCY} concurrent)`, (r) => ms(r.ack.p50)),
    row('ack p99', (r) => ms(r.ack.p99)),
    row('ack max', (r) => ms(r.ack.max)),
    row(`  ${ACK_REQUESTS} acks sent in / all ${ACK_REQUESTS} jobs posted in`, (r) => `${ms(r.ack.wallMs)} / ${ms(r.ack.drainMs)}`),
    row('  during it: all cores busy; bot main thread on CPU / waiting for CPU', (r) => cpuLine(r.ack)),
    row(`  warm-up before it: ${ACK_WARMUP} /vip help acks p50 / p99`, (r) => `${ms(r.ackWarmup.p50)} / ${ms(r.ackWarmup.p99)}`),
    row('  diagnostic: same burst, `vipbot bot` alone, p50 / p99', (r) => `${ms(r.ackNoWorker.p50)} / ${ms(r.ackNoWorker.p99)}`),
    row('  during it: all cores busy; bot main thread on CPU / waiting for CPU', (r) => cpuLine(r.ackNoWorker)),
    row('  diagnostic: same burst, lab unconfined, p50 / p99 / max', (r) => `${ms(r.ackUnconfined.p50)} / ${ms(r.ackUnconfined.p99)} / ${ms(r.ackUnconfined.max)}`),
    row('  during it: all cores busy; bot main thread on CPU / waiting for CPU', (r) => (r.ackUnconfined.n ? cpuLine(r.ackUnconfined) : 'n/a')),
    row(`/vip status -> post, WARM pool (median of ${RUNS}, min-max)`, (r) => spread(r.warm)),
    row(`/vip status -> post, COLD pool (median of ${RUNS}, min-max)`, (r) => spread(r.cold)),
    row('  warm: ack / to enqueue / queue wait / job to post (medians)', (r) => parts(r.warmParts)),
    row('  cold: ack / to enqueue / queue wait / job to post (medians)', (r) => parts(r.coldParts)),
    row(`parallel-ssh, fresh connections (median of ${RUNS})`, (r) => spread(r.pssh)),
    row(`floor: SshPool over open connections (median of ${RUNS})`, (r) => spread(r.floor)),
    row('all cores busy during floor rounds / parallel-ssh rounds', (r) => `${r.floorBusy.toFixed(0)}% / ${r.psshBusy.toFixed(0)}%`),
    row('SSH conns open before warm runs / cold runs', (r) => `${uniq(r.warmConnsBefore)} / ${uniq(r.coldConnsBefore)}`),
    row('bot VmRSS / VmHWM after acks + warm runs', (r) => `${mb(r.warmBot.vmRssKib)} / ${mb(r.warmBot.vmHwmKib)}`),
    row('bot VmRSS / VmHWM after cold runs (2nd process)', (r) => `${mb(r.coldBot.vmRssKib)} / ${mb(r.coldBot.vmHwmKib)}`),
  ];
  const targetRows: string[][] = [];
  const names = targets(results[0]!).map((t) => t.name);
  names.forEach((name, i) => {
    targetRows.push([name, ...results.map((r) => {
      const t = targets(r)[i]!;
      return `${t.pass ? 'PASS' : 'FAIL'} ${t.value}`;
    })]);
  });
  const all = [header, ...rows, ...targetRows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const fmt = (r: string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ').trimEnd();
  const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1));
  const lines = [
    '',
    `vipbot bench${QUICK ? ' (QUICK)' : ''}: ${new Date().toISOString()}, node ${process.version}`,
    rule,
    fmt(header),
    rule,
    ...rows.map(fmt),
    rule,
    fmt(['targets', ...results.map(() => '')]),
    ...targetRows.map(fmt),
    rule,
  ];
  lines.push(`lab CPU during the ack bursts (not the diagnostic "lab unconfined" one): ${[...new Set(results.map((r) => r.labCpu))].join('; ')}; all other rows: unconfined, as lab up leaves it`);
  for (const r of results) for (const note of r.notes) lines.push(`note (${r.hosts} hosts): ${note}`);
  lines.push(`whole bench: ${totalS.toFixed(1)} s`, '');
  return lines.join('\n');
}

function cpuLine(b: Burst): string {
  const thread = b.thread ? `${b.thread.runMs.toFixed(0)} / ${b.thread.waitMs.toFixed(0)} ms` : 'n/a';
  return `${b.busyPercent.toFixed(0)}%; ${thread}`;
}

function parts(list: readonly Breakdown[]): string {
  if (list.length === 0) return 'n/a';
  const m = (f: (b: Breakdown) => number): string => median(list.map(f)).toFixed(0);
  return `${m((b) => b.ack)} / ${m((b) => b.toEnqueue)} / ${m((b) => b.queueWait)} / ${m((b) => b.jobToPost)} ms`;
}

function uniq(values: number[]): string {
  const set = [...new Set(values)];
  return set.length === 1 ? String(set[0]) : values.join(',');
}

function parseSizes(text: string): number[] {
  const sizes = text.split(',').map((s) => Number(s.trim()));
  if (sizes.length === 0 || sizes.some((s) => !Number.isInteger(s) || s < 2 || s > 90 || s % 2 !== 0)) {
    throw new Error(`BENCH_SIZES must be even host counts from 2 to 90, e.g. 2,20 (got "${text}")`);
  }
  return [...new Set(sizes)];
}

function scaleSizes(text: string): number[] {
  const hosts = Number(text);
  if (!Number.isInteger(hosts) || hosts < 2 || hosts > MAX_HOSTS || hosts % 2 !== 0) {
    throw new Error(`BENCH_SCALE_HOSTS must be an even host count from 2 to ${MAX_HOSTS} (got "${text}")`);
  }
  return [hosts, ...[60, 40].filter((fallback) => fallback < hosts)];
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

/**
 * `vipbot <command>`: all | bot | worker | status [--json] [cluster|node] | console.
 * Settings are checked before anything listens: every problem is printed on its own line naming the
 * setting (or YAML path), and the process exits non-zero.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebClient } from '@slack/web-api';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type VipbotConfig } from './config/config.ts';
import { parseEnv, type Env } from './env.ts';
import { describeError, isVipbotError } from './errors.ts';
import { allNodeNames, resolveTarget } from './commands/resolve-target.ts';
import { findNode } from './config/config.ts';
import { sudoersExample } from './hosts/node-commands.ts';
import { parseSystemctlShow } from './keepalived/parse-systemctl-show.ts';
import { parseKeepalivedConf } from './keepalived/parse-conf.ts';
import { collectNodeFacts, type TrackScriptMemo } from './status/collect-node-facts.ts';
import { createLogger, silentLogger } from './logger.ts';
import { startRuntime, type Role } from './main.ts';
import { SshPool } from './hosts/ssh-pool.ts';
import { createStatusCollector } from './status/collect-status.ts';
import { renderStatusMessage } from './slack/render-status.ts';
import { blocksToText, toTerminalText } from './slack/blocks-to-text.ts';
import { LocalWebApi } from './slack/local-web-api.ts';
import { ConsoleReceiver } from './slack/console-receiver.ts';
import { runMemoryImport } from './memory/import-command.ts';
import { doctorGroups } from './doctor/doctor-groups.ts';
import { doctorExitCode, fail, formatDoctorReport, runChecks, type DoctorReport } from './doctor/doctor.ts';
import { createSshDoctorProbe } from './doctor/ssh-probe.ts';
import { readConfig } from './hosts/node-commands.ts';
import { renderInventory } from './keepalived/render-inventory.ts';
import { unifiedDiff } from './keepalived/unified-diff.ts';
import { createWorkerRedis, describeRedisTarget, redisTargetFromEnv } from './queue/redis-connections.ts';

const USAGE = `usage: vipbot <command>
  all                     bot and workers in one process (npm start)
  bot                     the Slack side only (HTTP or Socket Mode)
  worker                  job workers only (any number, sharing one Redis)
  status [--json] [name]  collect and print VIP status without Slack
  console                 the bot in this terminal: type /vip status
  memory import --node <node> [--tz <zone>] [--json] <mem.log> [ps_mem.log]
                          load the notes' crontab logs into the memory history
  sudoers [--user U] [node]  print a sudoers drop-in allowing exactly the node commands
  doctor [--json]         check an install: config, Redis, Slack, each node and cluster, with a fix for each failure
  render [--out DIR] [--diff] [cluster|node]
                          each node's keepalived.conf from vipbot.yaml (--diff: against the file on the host)
  version                 version, and whether the bundle (dist/) or the sources are running
environment: VIPBOT_CONFIG, REDIS_URL, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_API_URL, PORT`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'all':
    case 'bot':
    case 'worker':
      return runService(command);
    case 'status':
      return runStatus(rest);
    case 'console':
      return runConsole();
    case 'memory':
      return runMemory(rest);
    case 'sudoers':
      return runSudoers(rest);
    case 'doctor':
      return runDoctor(rest);
    case 'render':
      return runRender(rest);
    case 'version':
    case '--version':
      return runVersion();
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`vipbot: unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

/** Loads env and config; prints every problem, one per line, and returns undefined when any. */
function loadSettings(needsSlack: boolean): { env: Env; config: VipbotConfig } | undefined {
  const { env, problems } = parseEnv(process.env, { slack: needsSlack });
  const lines = problems.map((p) => `${p.setting}: ${p.message}`);
  let config: VipbotConfig | undefined;
  const configPath = env?.VIPBOT_CONFIG ?? process.env.VIPBOT_CONFIG ?? './vipbot.yaml';
  try {
    config = loadConfig(configPath);
  } catch (err) {
    if (err instanceof ConfigError) lines.push(...err.problems.map((p) => `${configPath}: ${p.path || '(top)'}: ${p.message}`));
    else lines.push(`${configPath}: ${describeError(err)}`);
  }
  if (lines.length > 0 || !env || !config) {
    process.stderr.write(`vipbot: cannot start, ${lines.length} problem(s):\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
    return undefined;
  }
  return { env, config };
}

async function runService(role: Role): Promise<number> {
  const settings = loadSettings(true);
  if (!settings) return 1;
  const logger = createLogger(settings.env.LOG_LEVEL);
  const runtime = await startRuntime({ role, ...settings, logger });
  await waitForSignal();
  const graceMs = settings.config.shutdownGrace;
  logger.info({ graceMs }, 'shutting down: no new work, letting running jobs finish');
  // The bound holds even if a close hangs in a way the runtime's own deadlines miss; a second
  // signal means "now".
  setTimeout(() => {
    logger.warn({ graceMs }, 'shutdown took longer than shutdownGrace: exiting anyway');
    process.exit(1);
  }, graceMs).unref();
  process.once('SIGTERM', () => process.exit(143));
  process.once('SIGINT', () => process.exit(130));
  await runtime.stop();
  return 0;
}

async function runStatus(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
  const settings = loadSettings(false);
  if (!settings) return 1;
  const pool = new SshPool({ logger: silentLogger() });
  try {
    const target = resolveTarget(settings.config, positionals[0]);
    const status = await createStatusCollector(settings.config, pool).collect(target);
    if (values.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    else process.stdout.write(`${toTerminalText(blocksToText(renderStatusMessage(status).blocks))}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`vipbot status: ${describeError(err)}\n`);
    return isVipbotError(err) ? 2 : 1;
  } finally {
    await pool.close();
  }
}

async function runSudoers(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { user: { type: 'string' } }, allowPositionals: true });
  const settings = loadSettings(false);
  if (!settings) return 1;
  const name = positionals[0] ?? settings.config.clusters[0]!.nodes[0]!.name;
  const node = findNode(settings.config, name);
  if (!node) {
    process.stderr.write(`vipbot sudoers: no node called ${name}; known: ${allNodeNames(settings.config).join(', ')}\n`);
    return 2;
  }
  const user = values.user ?? (node.ssh.user === 'root' ? 'vipbot' : node.ssh.user);
  // The track scripts come from the node's own keepalived.conf, as keepalived would run them; the
  // unit's cgroup (for the memory reads) from its `systemctl show`, both read by collectNodeFacts.
  const pool = new SshPool({ logger: silentLogger() });
  // Exactly the commands a status collection issues for the track scripts (look-ups and runs as keepalived's users).
  const memo: TrackScriptMemo = new Map();
  let controlGroup: string | undefined;
  let note = '';
  try {
    const facts = await collectNodeFacts(pool, node, { memo });
    const conf = facts.configText ? parseKeepalivedConf(facts.configText) : undefined;
    if (!conf) note = `# note: could not read ${node.keepalived.configPath} on ${name} (${facts.error ?? 'unreachable'}); add the track script lines by hand\n`;
    // The facts' `systemctl show` already asked for ControlGroup: no second round trip.
    const group = facts.systemctlShow ? parseSystemctlShow(facts.systemctlShow).ControlGroup : undefined;
    if (group?.startsWith('/')) controlGroup = group;
  } finally {
    await pool.close();
  }
  const trackScriptCommands = memo.get(node.node.name)?.commands ?? [];
  const forNode = { configPath: node.keepalived.configPath, service: node.keepalived.service, trackScriptCommands };
  let text: string;
  try {
    text = sudoersExample(user, { ...forNode, ...(controlGroup ? { controlGroup } : {}) });
    if (controlGroup) note += `# memory reads under ${controlGroup} (ControlGroup of ${node.keepalived.service} on ${name})\n`;
  } catch (err) {
    if (!controlGroup || !isVipbotError(err)) throw err;
    text = sudoersExample(user, forNode);
    note += `# note: ${name}'s ControlGroup ${controlGroup} cannot be allowed exactly (${err.message}); the memory lines below assume systemd's default /system.slice\n`;
  }
  process.stdout.write(note + text);
  return 0;
}

/** `vipbot doctor [--json]`: every check, one line each, a fix under each FAIL; exit 1 on any FAIL. */
async function runDoctor(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const print = (report: DoctorReport): number => {
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report));
    return doctorExitCode(report);
  };
  const { env, problems } = parseEnv(process.env, { slack: false });
  const configPath = env?.VIPBOT_CONFIG ?? process.env.VIPBOT_CONFIG ?? './vipbot.yaml';
  let config: VipbotConfig;
  try {
    config = loadConfig(configPath);
  } catch (err) {
    const detail = err instanceof ConfigError ? err.problems.map((p) => `${p.path || '(top)'}: ${p.message}`).join('; ') : describeError(err);
    return print({ checks: [fail('config', `${configPath}: ${detail}`, `fix ${configPath} (or point VIPBOT_CONFIG at the right file) and run vipbot doctor again`)] });
  }
  if (!env) {
    return print({ checks: [fail('environment', problems.map((p) => `${p.setting}: ${p.message}`).join('; '), 'fix the environment settings named above')] });
  }
  const target = redisTargetFromEnv(env);
  const redis = createWorkerRedis(target);
  redis.on('error', () => undefined); // the Redis check reports it
  const pool = new SshPool({ logger: silentLogger() });
  const slack = env.SLACK_BOT_TOKEN
    ? new WebClient(env.SLACK_BOT_TOKEN, { retryConfig: { retries: 0 }, timeout: 5_000, ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}) })
    : undefined;
  try {
    const groups = doctorGroups({ config, configPath, redis, redisWhere: describeRedisTarget(target), slack, probe: createSshDoctorProbe(pool) });
    if (!values.json) process.stderr.write(`vipbot doctor: ${groups.length} groups of checks…\n`);
    return print(await runChecks(groups));
  } finally {
    redis.disconnect();
    await pool.close();
  }
}

/** `vipbot render [--out DIR] [--diff] [name]`: the files from the inventory; --diff exits 1 when a host's file differs. */
async function runRender(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { out: { type: 'string' }, diff: { type: 'boolean', default: false } }, allowPositionals: true });
  const settings = loadSettings(false);
  if (!settings) return 1;
  let rendered;
  try {
    rendered = renderInventory(settings.config, positionals[0]);
  } catch (err) {
    process.stderr.write(`vipbot render: ${describeError(err)}\n`);
    return 2;
  }
  if (values.diff) {
    const pool = new SshPool({ logger: silentLogger() });
    let differs = false;
    try {
      for (const r of rendered) {
        const node = findNode(settings.config, r.node)!;
        const path = node.keepalived.configPath;
        try {
          const res = await pool.run({ name: r.node, host: node.node.host, ssh: node.ssh }, readConfig(path));
          const current = res.code === 0 ? res.stdout : '';
          if (res.code !== 0) process.stderr.write(`vipbot render: cannot read ${path} on ${r.node} (${res.stderr.trim() || `exit ${String(res.code)}`}); diffing against an empty file\n`);
          const diff = unifiedDiff(current, r.text, `${r.node}:${path}`);
          if (diff) differs = true;
          process.stdout.write(diff || `# ${r.node}:${path} is already as rendered\n`);
        } catch (err) {
          differs = true;
          process.stderr.write(`vipbot render: ${r.node}: ${describeError(err)}\n`);
        }
      }
    } finally {
      await pool.close();
    }
    return differs ? 1 : 0;
  }
  if (values.out) {
    for (const r of rendered) {
      const dir = join(values.out, r.node);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'keepalived.conf'), r.text, { mode: 0o640 });
      process.stdout.write(`wrote ${join(dir, 'keepalived.conf')}\n`);
    }
    return 0;
  }
  // One node: the file alone (pipe it); several: each after a comment line naming it.
  if (rendered.length === 1) process.stdout.write(rendered[0]!.text);
  else for (const r of rendered) process.stdout.write(`! ==== ${r.node} (cluster ${r.cluster}) ====\n${r.text}\n`);
  return 0;
}

function runVersion(): number {
  // src/cli.ts and dist/vipbot.mjs both sit one level below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  const running = import.meta.url.endsWith('.ts') ? 'sources (tsx)' : 'bundle (dist/vipbot.mjs)';
  process.stdout.write(`vipbot ${String(pkg.version)}, node ${process.version}, running the ${running}\n`);
  return 0;
}

async function runMemory(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'import') {
    process.stderr.write(`vipbot memory: unknown subcommand "${sub ?? ''}"\n${USAGE}\n`);
    return 2;
  }
  const settings = loadSettings(false);
  if (!settings) return 1;
  try {
    return await runMemoryImport(rest, settings, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) });
  } catch (err) {
    process.stderr.write(`vipbot memory import: ${describeError(err)}\n`);
    return isVipbotError(err) ? 2 : 1;
  }
}

async function runConsole(): Promise<number> {
  const settings = loadSettings(false);
  if (!settings) return 1;
  const { config } = settings;
  const webApi = await new LocalWebApi({ botUserId: 'U0VIPBOT' }).start();
  // Console jobs get their own queue prefix so a real bot sharing this Redis never picks them up.
  const env: Env = { ...settings.env, SLACK_API_URL: webApi.url, VIPBOT_QUEUE_PREFIX: `${settings.env.VIPBOT_QUEUE_PREFIX}-console`, PORT: 0 };
  const userId = [...config.access.operators, ...config.access.viewers].find((id) => /^[UW]/.test(id)) ?? 'U0CONSOLE';
  const channelId = config.access.channels[0] ?? 'C0CONSOLE';
  let closed!: () => void;
  const done = new Promise<void>((resolve) => (closed = resolve));
  const receiver = new ConsoleReceiver({ input: process.stdin, output: process.stdout, webApi, channelId, userId, approvers: config.access.approvers, operators: config.access.operators, onClose: () => closed() });
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const runtime = await startRuntime({ role: 'all', env, config, logger, receiver, token: 'xoxb-console-local', botUserId: 'U0VIPBOT' });
  const interrupted = await Promise.race([done.then(() => false), waitForSignal().then(() => true)]);
  // Input ended (e.g. commands piped in): let queued work finish and print before leaving.
  if (!interrupted) await waitForIdle(runtime.queue.queue, 60_000);
  await runtime.stop();
  await webApi.stop();
  return 0;
}

async function waitForIdle(queue: { getJobCounts(...states: string[]): Promise<Record<string, number>> }, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // Delayed jobs (request expiry) are not work in flight.
    const counts = await queue.getJobCounts('waiting', 'active', 'prioritized');
    if (Object.values(counts).every((n) => n === 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`vipbot: ${describeError(err)}\n`);
    process.exit(1);
  },
);

/**
 * Runs an approved plan on the hosts (SPEC §5.4): re-read, back up, stage, test, install atomically,
 * apply, wait until every VIP sits where the plan says — and on any failure after the host was
 * touched, restore the backup, apply again and check the VIPs are back.
 *
 * Every finished step goes into a journal first-thing after it succeeds. A worker killed mid-job is
 * retried by the queue; the retry reads the journal and the host, and continues from what is really
 * there: it never installs or applies twice.
 */
import type { ResolvedNode } from '../config/config.ts';
import { describeError, VipbotError } from '../errors.ts';
import {
  backupConfig,
  copyOwnerMode,
  formatCommand,
  installConfig,
  listAddresses,
  readConfig,
  serviceIsActive,
  serviceReload,
  serviceRestart,
  serviceShow,
  serviceStart,
  serviceStop,
  stageConfig,
  stagingPathFor,
  testConfig,
  timestampedBackupPathFor,
  type NodeCommand,
} from '../hosts/node-commands.ts';
import { parseIpAddr } from '../keepalived/parse-ip-addr.ts';
import { parseSystemctlShow, summariseService } from '../keepalived/parse-systemctl-show.ts';
import type { NodeRunner } from '../status/collect-node-facts.ts';
import { judgeConfigTest } from './judge-config-test.ts';
import type { Journal } from './request-store.ts';
import type { ChangeRequest, CommandRecord, ExecutionOutcome, VipPlacement } from './types.ts';

/** Step names reported as progress (one thread line each). */
export type ExecutionStep = 'lock' | 'reread' | 'backup' | 'stage' | 'test' | 'install' | 'apply' | 'waiting' | 'settled' | 'failed' | 'rollback' | 'rolled_back' | 'resume';

export interface ExecutorDeps {
  runner: NodeRunner;
  /** Every node of the request's cluster, resolved (ssh and keepalived settings). */
  nodes: readonly ResolvedNode[];
  journal: Journal;
  progress(step: ExecutionStep, detail: string): Promise<void>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** How often VIP placement is polled while converging (default 200 ms). */
  pollIntervalMs?: number;
}

/** A step failed: carries whether the host was already changed (then a rollback is due). */
class StepFailure extends Error {
  constructor(message: string, readonly hostChanged: boolean) {
    super(message);
  }
}

export async function executePlan(request: ChangeRequest, deps: ExecutorDeps): Promise<ExecutionOutcome> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const plan = request.plan;
  const commands: CommandRecord[] = [];
  const target = deps.nodes.find((n) => n.node.name === request.node);
  if (!target) throw new VipbotError('unknown_node', `node ${request.node} is no longer in the config`, 'request again with a node from /vip help');
  const vips = target.cluster.vips;

  const run = async (node: ResolvedNode, cmd: NodeCommand) => {
    const at = now();
    const display = formatCommand(cmd);
    try {
      const res = await deps.runner.run({ name: node.node.name, host: node.node.host, ssh: node.ssh }, cmd);
      commands.push({ node: node.node.name, id: cmd.id, display, exitCode: res.code, durationMs: now() - at, at });
      return res;
    } catch (err) {
      commands.push({ node: node.node.name, id: cmd.id, display, exitCode: null, durationMs: now() - at, at, error: describeError(err) });
      throw err;
    }
  };
  const mustSucceed = async (node: ResolvedNode, cmd: NodeCommand, what: string, hostChanged: boolean) => {
    let res;
    try {
      res = await run(node, cmd);
    } catch (err) {
      throw new StepFailure(`${what} failed on ${node.node.name}: ${describeError(err)}`, hostChanged);
    }
    if (res.code !== 0) throw new StepFailure(`${what} failed on ${node.node.name} (exit ${String(res.code)}): ${firstLine(res.stderr) || firstLine(res.stdout)}`, hostChanged);
    return res;
  };

  /** Where the VIPs are now, from `ip -o addr` on every node that answers. */
  const readPlacement = async (): Promise<VipPlacement> => {
    const placement: VipPlacement = Object.fromEntries(vips.map((v) => [v.name, [] as string[]]));
    await Promise.all(deps.nodes.map(async (node) => {
      try {
        const res = await deps.runner.run({ name: node.node.name, host: node.node.host, ssh: node.ssh }, listAddresses());
        if (res.code !== 0) return;
        const addresses = new Set(parseIpAddr(res.stdout).map((a) => a.address));
        for (const vip of vips) if (addresses.has(vip.address)) placement[vip.name]!.push(node.node.name);
      } catch {
        // An unreachable node holds nothing we can see; the expected placement never names one.
      }
    }));
    for (const list of Object.values(placement)) list.sort();
    return placement;
  };

  /** Polls until the placement matches, noting any moment a VIP was on two nodes or on none. */
  const waitForPlacement = async (expected: VipPlacement, timeoutMs: number) => {
    const deadline = now() + timeoutMs;
    const notes = new Set<string>();
    let last: VipPlacement = {};
    for (;;) {
      last = await readPlacement();
      for (const [vip, holders] of Object.entries(last)) if (holders.length > 1) notes.add(`${vip} VIP was seen on ${holders.join(' and ')} at once`);
      if (matches(last, expected)) return { ok: true as const, placement: last, notes: [...notes] };
      if (now() >= deadline) return { ok: false as const, placement: last, notes: [...notes] };
      await sleep(deps.pollIntervalMs ?? 200);
    }
  };

  const journal = await deps.journal.load();
  const resumed = Object.keys(journal).length > 0;
  if (resumed) await deps.progress('resume', `Resuming after an interruption; already done: ${Object.keys(journal).join(', ')}`);
  else await deps.journal.record('begun');
  const configPath = plan.configPath ?? target.keepalived.configPath;
  const staging = stagingPathFor(configPath);
  const apply = async (what: string) => {
    const cmd = plan.apply === 'restart' ? serviceRestart(plan.service) : serviceReload(plan.service);
    await mustSucceed(target, cmd, what, true);
  };
  let backupPath = journal.backup;

  try {
    if (plan.action === 'promote') {
      if (!journal.installed) {
        await deps.progress('reread', `Re-reading ${configPath} on ${target.node.name}`);
        const current = await mustSucceed(target, readConfig(configPath), 'reading the config', false);
        if (resumed && current.stdout === plan.newConfig) {
          // Killed between the rename and the journal write: the new file is in place.
          await deps.journal.record('installed');
        } else if (current.stdout !== plan.baseConfig) {
          throw new StepFailure(`plan is stale: ${configPath} on ${target.node.name} changed since the plan was made; nothing was changed — request again`, false);
        }
      }
      if (!(await deps.journal.load()).installed) {
        if (!backupPath) {
          backupPath = timestampedBackupPathFor(configPath, new Date(now()));
          await mustSucceed(target, backupConfig(configPath, backupPath), 'backing up the config', false);
          await deps.journal.record('backup', backupPath);
        }
        await deps.progress('backup', `Backed up to ${backupPath}`);
        await mustSucceed(target, stageConfig(staging, plan.newConfig ?? ''), 'writing the new config', false);
        for (const cmd of copyOwnerMode(configPath, staging)) await mustSucceed(target, cmd, 'copying owner and mode', false);
        await deps.progress('stage', `New config written to ${staging} (same owner and mode)`);
        const candidate = await run(target, testConfig(staging));
        const baseline = await run(target, testConfig(configPath));
        const verdict = judgeConfigTest(baseline, candidate);
        if (!verdict.ok) throw new StepFailure(`keepalived -t refused the new config: ${verdict.reason}; nothing was installed`, false);
        await deps.progress('test', `keepalived -t: ${verdict.reason}`);
        await mustSucceed(target, installConfig(staging, configPath), 'installing the new config', false);
        await deps.journal.record('installed');
        await deps.progress('install', `Installed ${configPath} (atomic rename)`);
      }
      if (!journal.applied) {
        const mainPid = async () => summariseService(parseSystemctlShow((await run(target, serviceShow(plan.service))).stdout)).mainPid ?? 0;
        if (journal.applying !== undefined && plan.apply === 'restart' && String(await mainPid()) !== journal.applying) {
          // Killed after the restart ran but before it was journaled: keepalived's main PID changed,
          // so the restart happened; restarting again would drop the VIPs a second time.
          await deps.journal.record('applied');
          await deps.progress('apply', `systemctl restart ${plan.service} on ${target.node.name} had already run (main PID changed)`);
        } else {
          // Note the main PID first: a retry after a kill can tell whether the restart ran. A reload
          // leaves no such trace; repeating it re-reads the same file and moves nothing.
          await deps.journal.record('applying', plan.apply === 'restart' ? String(await mainPid()) : 'reload');
          await apply(`systemctl ${plan.apply ?? 'reload'}`);
          await deps.journal.record('applied');
          const again = journal.applying !== undefined && plan.apply !== 'restart' ? ' (again: an interrupted run may have reloaded already; harmless)' : '';
          await deps.progress('apply', `systemctl ${plan.apply ?? 'reload'} ${plan.service} on ${target.node.name}${again}`);
        }
      }
    } else if (!journal.applied) {
      const active = (await run(target, serviceIsActive(plan.service))).code === 0;
      const wantActive = plan.action === 'start';
      if (active === wantActive && resumed) {
        // Killed between the systemctl call and the journal write: the change is in place.
        await deps.journal.record('applied');
      } else if (active === wantActive) {
        throw new StepFailure(`plan is stale: keepalived on ${target.node.name} is already ${active ? 'running' : 'stopped'}; nothing was changed — request again if still needed`, false);
      } else {
        await mustSucceed(target, wantActive ? serviceStart(plan.service) : serviceStop(plan.service), `systemctl ${wantActive ? 'start' : 'stop'}`, true);
        await deps.journal.record('applied');
      }
      await deps.progress('apply', `systemctl ${wantActive ? 'start' : 'stop'} ${plan.service} on ${target.node.name}`);
    }

    await deps.progress('waiting', `Waiting up to ${Math.round(plan.convergeTimeoutMs / 1000)}s for ${describePlacement(plan.expected)}`);
    const settled = await waitForPlacement(plan.expected, plan.convergeTimeoutMs);
    if (!settled.ok) {
      throw new StepFailure(`VIPs did not settle within ${Math.round(plan.convergeTimeoutMs / 1000)}s: expected ${describePlacement(plan.expected)}, found ${describePlacement(settled.placement)}`, true);
    }
    const settledMs = now() - started;
    const notes = settled.notes.length ? ` (note: ${settled.notes.join('; ')})` : '';
    await deps.progress('settled', `${describePlacement(settled.placement)} after ${(settledMs / 1000).toFixed(1)}s${notes}`);
    return {
      state: 'succeeded',
      summary: `${describePlacement(settled.placement)}${notes}`,
      commands,
      final: settled.placement,
      settledMs,
      ...(backupPath ? { backupPath } : {}),
    };
  } catch (err) {
    const failure = err instanceof StepFailure ? err : new StepFailure(describeError(err), true);
    await deps.progress('failed', failure.message).catch(() => undefined);
    if (!failure.hostChanged && !(await deps.journal.load()).installed) {
      return { state: 'failed', summary: failure.message, error: failure.message, commands, final: await readPlacement(), ...(backupPath ? { backupPath } : {}) };
    }
    const rollback = await rollBack();
    return {
      state: rollback.ok ? 'rolled_back' : 'failed',
      summary: `${failure.message}; ${rollback.report}`,
      error: failure.message,
      rollback: rollback.report,
      commands,
      final: rollback.placement,
      ...(backupPath ? { backupPath } : {}),
    };
  }

  /** Puts the host back as it was and checks the VIPs return to where they were before. */
  async function rollBack(): Promise<{ ok: boolean; report: string; placement: VipPlacement }> {
    await deps.progress('rollback', 'Rolling back').catch(() => undefined);
    try {
      if (plan.action === 'promote') {
        if (!backupPath) throw new StepFailure('no backup was recorded', true);
        await mustSucceed(target!, backupConfig(backupPath, staging), 'restoring the backup', true);
        for (const cmd of copyOwnerMode(configPath, staging)) await mustSucceed(target!, cmd, 'copying owner and mode', true);
        await mustSucceed(target!, installConfig(staging, configPath), 'reinstalling the backup', true);
        await apply(`systemctl ${plan.apply ?? 'reload'} (rollback)`);
      } else {
        const wasActive = plan.action === 'demote';
        const active = (await run(target!, serviceIsActive(plan.service))).code === 0;
        if (active !== wasActive) await mustSucceed(target!, wasActive ? serviceStart(plan.service) : serviceStop(plan.service), 'restoring the service state', true);
      }
      const back = await waitForPlacement(plan.before, plan.convergeTimeoutMs);
      const report = back.ok
        ? `rolled back: ${plan.action === 'promote' ? `${configPath} restored from ${backupPath}` : `keepalived ${plan.action === 'demote' ? 'started' : 'stopped'} again`}; ${describePlacement(back.placement)} as before`
        : `rollback applied but the VIPs are not back: expected ${describePlacement(plan.before)}, found ${describePlacement(back.placement)} — check the pair now (/vip status)`;
      await deps.progress(back.ok ? 'rolled_back' : 'failed', report).catch(() => undefined);
      return { ok: back.ok, report, placement: back.placement };
    } catch (err) {
      const report = `ROLLBACK FAILED: ${describeError(err)} — the host may be half-changed; check ${target!.node.name} by hand (backup: ${backupPath ?? 'none'})`;
      await deps.progress('failed', report).catch(() => undefined);
      return { ok: false, report, placement: await readPlacement() };
    }
  }
}

function matches(actual: VipPlacement, expected: VipPlacement): boolean {
  return Object.entries(expected).every(([vip, holders]) => JSON.stringify([...holders].sort()) === JSON.stringify(actual[vip] ?? []));
}

/** "primary on node2, standby on node1" */
export function describePlacement(placement: VipPlacement): string {
  return Object.entries(placement).map(([vip, holders]) => `${vip} on ${holders.length ? holders.join(' + ') : 'no node'}`).join(', ');
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 300) ?? '';
}

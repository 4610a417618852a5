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
import { ChangeLedger, mayHaveRun, type HostPart } from './change-ledger.ts';
import { judgeConfigTest } from './judge-config-test.ts';
import type { Journal } from './request-store.ts';
import type { ChangeRequest, CommandRecord, ExecutionOutcome, VipPlacement } from './types.ts';

/** Step names reported as progress (one thread line each). */
export type ExecutionStep = 'lock' | 'reread' | 'backup' | 'stage' | 'test' | 'install' | 'apply' | 'waiting' | 'settled' | 'failed' | 'rollback' | 'rolled_back' | 'resume';

/** A node runner that may also say which signal ended a command (the SSH pool does). */
export interface ExecutorRunner {
  run(...args: Parameters<NodeRunner['run']>): Promise<Awaited<ReturnType<NodeRunner['run']>> & { signal?: string }>;
}

export interface ExecutorDeps {
  runner: ExecutorRunner;
  /** Every node of the request's cluster, resolved (ssh and keepalived settings). */
  nodes: readonly ResolvedNode[];
  journal: Journal;
  progress(step: ExecutionStep, detail: string): Promise<void>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** How often VIP placement is polled while converging (default 200 ms). */
  pollIntervalMs?: number;
}

/** A step failed; what it did to the host is in the ledger, not here. */
class StepFailure extends Error {}

export async function executePlan(request: ChangeRequest, deps: ExecutorDeps): Promise<ExecutionOutcome> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const plan = request.plan;
  const commands: CommandRecord[] = [];
  const target = deps.nodes.find((n) => n.node.name === request.node);
  if (!target) throw new VipbotError('unknown_node', `node ${request.node} is no longer in the config`, 'request again with a node from /vip help');
  const vips = target.cluster.vips;
  const node = target.node.name;

  const run = async (on: ResolvedNode, cmd: NodeCommand) => {
    const at = now();
    const display = formatCommand(cmd);
    try {
      const res = await deps.runner.run({ name: on.node.name, host: on.node.host, ssh: on.ssh }, cmd);
      const signal = res.signal ? { signal: res.signal } : {};
      commands.push({ node: on.node.name, id: cmd.id, display, exitCode: res.code, ...signal, durationMs: now() - at, at });
      return res;
    } catch (err) {
      const code = err instanceof VipbotError ? { errorCode: err.code } : {};
      const error = describeError(err);
      commands.push({ node: on.node.name, id: cmd.id, display, exitCode: null, durationMs: now() - at, at, error, ...code });
      throw err;
    }
  };
  /**
   * Runs a command on the target that must exit 0. When it changes a `part` of the host, the ledger
   * learns whether it did, or — failed — whether it may still have: a refusal before it started
   * cannot have, a non-zero `mv` did not rename, a dropped connection or a failed systemctl may have.
   * `undoing` marks the rollback's own commands (success is noted by the caller, once all ran).
   */
  const mustSucceed = async (cmd: NodeCommand, what: string, part?: HostPart, undoing = false) => {
    const fail = (ran: boolean, message: string) => {
      if (part && undoing) ledger.restoreFailed(part, ran);
      else if (part) ledger.failed(part, ran);
      return new StepFailure(message);
    };
    let res;
    try {
      res = await run(target, cmd);
    } catch (err) {
      throw fail(mayHaveRun(err), `${what} failed on ${node}: ${describeError(err)}`);
    }
    if (res.code !== 0) {
      const said = firstLine(res.stderr) || firstLine(res.stdout);
      throw fail(part === 'service', `${what} failed on ${node} (${describeEnd(res)})${said ? `: ${said}` : ''}`);
    }
    if (part && !undoing) ledger.done(part);
    return res;
  };
  /** A read-only probe of the target: a failure says what could not be checked. */
  const probe = async (cmd: NodeCommand, what: string) => {
    try {
      return await run(target, cmd);
    } catch (err) {
      throw new StepFailure(`could not ${what} on ${node}: ${describeError(err)}`);
    }
  };

  /** Nodes the latest placement read could not see: "on no node" is then only "on none that answered". */
  let unreadNodes: string[] = [];
  /** Where the VIPs are now, from `ip -o addr` on every node that answers. */
  const readPlacement = async (): Promise<VipPlacement> => {
    const placement: VipPlacement = Object.fromEntries(vips.map((v) => [v.name, [] as string[]]));
    const unread: string[] = [];
    await Promise.all(deps.nodes.map(async (n) => {
      try {
        const res = await deps.runner.run({ name: n.node.name, host: n.node.host, ssh: n.ssh }, listAddresses());
        if (res.code !== 0) {
          unread.push(n.node.name);
          return;
        }
        const addresses = new Set(parseIpAddr(res.stdout).map((a) => a.address));
        for (const vip of vips) if (addresses.has(vip.address)) placement[vip.name]!.push(n.node.name);
      } catch {
        // An unreachable node holds nothing we can see; the expected placement never names one.
        unread.push(n.node.name);
      }
    }));
    for (const list of Object.values(placement)) list.sort();
    unreadNodes = unread.sort();
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
  const applyVerb = plan.apply ?? 'reload';
  const ledger = new ChangeLedger(plan.action, node, { config: configPath, staging }, applyVerb);
  ledger.resume(journal);
  const applyCommand = () => (plan.apply === 'restart' ? serviceRestart(plan.service) : serviceReload(plan.service));
  let backupPath = journal.backup;
  ledger.backupPath = backupPath;
  const extras = () => ({
    ...(backupPath ? { backupPath } : {}),
    changes: ledger.report(),
    ...(unreadNodes.length ? { unreadNodes } : {}),
  });

  try {
    if (plan.action === 'promote') {
      if (!journal.installed) {
        await deps.progress('reread', `Re-reading ${configPath} on ${node}`);
        const current = await mustSucceed(readConfig(configPath), 'reading the config');
        if (resumed && current.stdout === plan.newConfig) {
          // Killed between the rename and the journal write: the new file is in place.
          await deps.journal.record('installed');
          ledger.done('config');
        } else if (current.stdout !== plan.baseConfig) {
          throw new StepFailure(`plan is stale: ${configPath} on ${node} changed since the plan was made — request again`);
        }
      }
      if (ledger.state('config') === 'unchanged') {
        if (!backupPath) {
          const path = timestampedBackupPathFor(configPath, new Date(now()));
          await mustSucceed(backupConfig(configPath, path), 'backing up the config');
          backupPath = ledger.backupPath = path;
          await deps.journal.record('backup', backupPath);
        }
        await deps.progress('backup', `Backed up to ${backupPath}`);
        ledger.stagedCopy();
        await mustSucceed(stageConfig(staging, plan.newConfig ?? ''), 'writing the new config');
        for (const cmd of copyOwnerMode(configPath, staging)) await mustSucceed(cmd, 'copying owner and mode');
        await deps.progress('stage', `New config written to ${staging} (same owner and mode)`);
        const candidate = await probe(testConfig(staging), 'run keepalived -t on the new config');
        const baseline = await probe(testConfig(configPath), 'run keepalived -t on the current config');
        const verdict = judgeConfigTest(baseline, candidate);
        if (!verdict.ok) throw new StepFailure(`keepalived -t refused the new config: ${verdict.reason}`);
        await deps.progress('test', `keepalived -t: ${verdict.reason}`);
        await mustSucceed(installConfig(staging, configPath), 'installing the new config', 'config');
        await deps.journal.record('installed');
        await deps.progress('install', `Installed ${configPath} (atomic rename)`);
      }
      if (!journal.applied) {
        const mainPid = async () => {
          const show = await probe(serviceShow(plan.service), 'read the service state');
          return summariseService(parseSystemctlShow(show.stdout)).mainPid ?? 0;
        };
        if (journal.applying !== undefined && plan.apply === 'restart' && String(await mainPid()) !== journal.applying) {
          // Killed after the restart ran but before it was journaled: keepalived's main PID changed,
          // so the restart happened; restarting again would drop the VIPs a second time.
          await deps.journal.record('applied');
          ledger.done('service');
          await deps.progress('apply', `systemctl restart ${plan.service} on ${node} had already run (main PID changed)`);
        } else {
          // Note the main PID first: a retry after a kill can tell whether the restart ran. A reload
          // leaves no such trace; repeating it re-reads the same file and moves nothing.
          await deps.journal.record('applying', plan.apply === 'restart' ? String(await mainPid()) : 'reload');
          await mustSucceed(applyCommand(), `systemctl ${applyVerb}`, 'service');
          await deps.journal.record('applied');
          const again = journal.applying !== undefined && plan.apply !== 'restart' ? ' (again: an interrupted run may have reloaded already; harmless)' : '';
          await deps.progress('apply', `systemctl ${applyVerb} ${plan.service} on ${node}${again}`);
        }
      }
    } else if (!journal.applied) {
      const active = (await probe(serviceIsActive(plan.service), 'check whether keepalived is running')).code === 0;
      const wantActive = plan.action === 'start';
      if (active === wantActive && resumed) {
        // Killed between the systemctl call and the journal write: the change is in place.
        await deps.journal.record('applied');
        ledger.done('service');
      } else if (active === wantActive) {
        const already = active ? 'running' : 'stopped';
        throw new StepFailure(`plan is stale: keepalived on ${node} is already ${already} — request again if still needed`);
      } else {
        await deps.journal.record('applying', plan.action);
        const verb = wantActive ? 'start' : 'stop';
        await mustSucceed(wantActive ? serviceStart(plan.service) : serviceStop(plan.service), `systemctl ${verb}`, 'service');
        await deps.journal.record('applied');
      }
      await deps.progress('apply', `systemctl ${wantActive ? 'start' : 'stop'} ${plan.service} on ${node}`);
    }

    await deps.progress('waiting', `Waiting up to ${Math.round(plan.convergeTimeoutMs / 1000)}s for ${describePlacement(plan.expected)}`);
    const settled = await waitForPlacement(plan.expected, plan.convergeTimeoutMs);
    if (!settled.ok) {
      const within = `within ${Math.round(plan.convergeTimeoutMs / 1000)}s`;
      const found = describePlacement(settled.placement);
      throw new StepFailure(`VIPs did not settle ${within}: expected ${describePlacement(plan.expected)}, found ${found}`);
    }
    const settledMs = now() - started;
    const notes = settled.notes.length ? ` (note: ${settled.notes.join('; ')})` : '';
    await deps.progress('settled', `${describePlacement(settled.placement)} after ${(settledMs / 1000).toFixed(1)}s${notes}`);
    const summary = `${describePlacement(settled.placement)}${notes}`;
    return { state: 'succeeded', summary, commands, final: settled.placement, settledMs, ...extras() };
  } catch (err) {
    const reason = err instanceof StepFailure ? err.message : describeError(err);
    if (ledger.nothingChanged()) {
      // Nothing keepalived uses was touched: a rollback (and its reload/restart) would only move VIPs.
      const summary = ledger.describeNothingChanged(reason);
      await deps.progress('failed', summary).catch(() => undefined);
      return { state: 'failed', summary, error: reason, commands, final: await readPlacement(), ...extras() };
    }
    await deps.progress('failed', reason).catch(() => undefined);
    const rollback = await rollBack();
    return {
      state: rollback.ok ? 'rolled_back' : 'failed',
      summary: `${reason}; ${rollback.report}`,
      error: reason,
      rollback: rollback.report,
      commands,
      final: rollback.placement,
      ...extras(),
    };
  }

  /** Undoes what the ledger says was (or may have been) changed, and checks the VIPs are back where they were. */
  async function rollBack(): Promise<{ ok: boolean; report: string; placement: VipPlacement }> {
    await deps.progress('rollback', `Rolling back on ${node}: ${ledger.describeNow()}`).catch(() => undefined);
    try {
      if (plan.action === 'promote') {
        if (ledger.state('config') !== 'unchanged') {
          if (!backupPath) throw new StepFailure('no backup was recorded');
          ledger.stagedCopy();
          await mustSucceed(backupConfig(backupPath, staging), 'restoring the backup');
          for (const cmd of copyOwnerMode(configPath, staging)) await mustSucceed(cmd, 'copying owner and mode');
          await mustSucceed(installConfig(staging, configPath), 'reinstalling the backup', 'config', true);
          ledger.restored('config');
        }
        // A reload/restart that never reached the host left keepalived on the old config: nothing to re-apply.
        if (ledger.state('service') !== 'unchanged') {
          await mustSucceed(applyCommand(), `systemctl ${applyVerb} (rollback)`, 'service', true);
          ledger.restored('service');
        }
      } else if (ledger.state('service') !== 'unchanged') {
        const wasActive = plan.action === 'demote';
        const active = (await probe(serviceIsActive(plan.service), 'check whether keepalived is running')).code === 0;
        const putBack = wasActive ? serviceStart(plan.service) : serviceStop(plan.service);
        if (active !== wasActive) await mustSucceed(putBack, 'restoring the service state', 'service', true);
        ledger.restored('service');
      }
      const back = await waitForPlacement(plan.before, plan.convergeTimeoutMs);
      const report = back.ok
        ? `rolled back: ${ledger.describeNow()} on ${node}; ${describePlacement(back.placement)} as before`
        : `rollback applied on ${node} (${ledger.describeNow()}) but the VIPs are not back: ` +
          `expected ${describePlacement(plan.before)}, ` +
          `found ${describePlacement(back.placement)} — check the pair now (/vip status)`;
      await deps.progress(back.ok ? 'rolled_back' : 'failed', report).catch(() => undefined);
      return { ok: back.ok, report, placement: back.placement };
    } catch (err) {
      const report = `ROLLBACK FAILED: ${describeError(err)} — ${node} now: ${ledger.describeNow()}; ` +
        `check ${node} by hand (backup: ${backupPath ?? 'none'})`;
      await deps.progress('failed', report).catch(() => undefined);
      return { ok: false, report, placement: await readPlacement() };
    }
  }
}

/** How a command ended, for messages: "exit 3", "killed by SIGTERM". */
function describeEnd(res: { code: number | null; signal?: string }): string {
  return res.code !== null ? `exit ${res.code}` : res.signal ? `killed by ${res.signal}` : 'no exit code';
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

/**
 * SPEC §8 "a failed action that changed nothing on any host": the executor judges a failure by what
 * its commands did to the host, step by step — never "something threw, so roll back". One test per
 * failure point of promote (re-read, backup, stage, test, install, apply, converge) and of demote.
 */
import { describe, expect, it } from 'vitest';
import { executePlan } from '../../../src/approvals/execute-plan.ts';
import type { ChangeRequest, ExecutionOutcome } from '../../../src/approvals/types.ts';
import { CONF, deps, FakePair, NODE2_CONF, promoteRequest } from './fake-pair.ts';

const STAGED = `${CONF}.vipbot-new`;
const BACKUP = `${CONF}.vipbot-20261126T193000Z`;
const restart = () => promoteRequest({ apply: 'restart' });

/** The parts of an outcome these tests judge. */
function verdict(outcome: ExecutionOutcome) {
  return { state: outcome.state, summary: outcome.summary, changes: outcome.changes };
}

/** Commands run on node2 other than the VIP polls. */
function onNode2(pair: FakePair): string[] {
  return pair.ran.filter((r) => r.startsWith('node2') && !r.endsWith('list-addresses')).map((r) => r.slice(6));
}

const untouched = (leftovers: string[] = []) => ({ node: 'node2', config: 'unchanged', service: 'unchanged', leftovers });

describe('executePlan: a promote that fails before the install changes nothing and rolls nothing back', () => {
  it('node2 unreachable at the re-read: nothing changed, no restore, no restart', async () => {
    const pair = new FakePair();
    pair.unreachable.add('node2');
    const { deps: d, steps } = deps(pair);
    const outcome = await executePlan(restart(), d);
    expect(verdict(outcome)).toEqual({
      state: 'failed',
      summary: 'failed — nothing was changed on node2: reading the config failed on node2: could not connect to node2 (198.51.100.x:22) within 5s',
      changes: untouched(),
    });
    expect(onNode2(pair)).toEqual(['read-config']);
    expect(pair.applies).toEqual([]);
    expect(steps.map(([s]) => s)).toEqual(['reread', 'failed']);
  });

  it('the backup fails (cp exits 1): nothing changed, nothing staged', async () => {
    const pair = new FakePair().fail('node2', 'backup-config', { kind: 'exit', code: 1, stderr: 'cp: No space left on device' });
    const outcome = await executePlan(restart(), deps(pair).deps);
    expect(verdict(outcome)).toEqual({
      state: 'failed',
      summary: 'failed — nothing was changed on node2: backing up the config failed on node2 (exit 1): cp: No space left on device',
      changes: untouched(),
    });
    expect(outcome.backupPath).toBeUndefined();
    expect(onNode2(pair)).toEqual(['read-config', 'backup-config']);
    expect(pair.applies).toEqual([]);
  });

  it('the connection drops while staging: the live config is untouched; the staged copy is reported as left behind', async () => {
    const pair = new FakePair().fail('node2', 'stage-config', { kind: 'lost' });
    const outcome = await executePlan(restart(), deps(pair).deps);
    expect(verdict(outcome)).toEqual({
      state: 'failed',
      summary: 'failed — nothing was changed on node2: writing the new config failed on node2: the SSH connection to node2 dropped while stage-config was running; ' +
        `a staged copy may be left at ${STAGED} (keepalived does not read it; the next change overwrites it)`,
      changes: untouched([STAGED]),
    });
    expect(outcome.backupPath).toBe(BACKUP);
    expect(pair.files.node2![CONF]).toBe(NODE2_CONF);
    expect(onNode2(pair)).toEqual(['read-config', 'backup-config', 'stage-config']);
    expect(pair.applies).toEqual([]);
  });

  it('an SSH error during keepalived -t (host-side timeout): nothing changed, no restore, no restart', async () => {
    const pair = new FakePair().fail('node2', 'test-config', { kind: 'timeout' });
    const { deps: d, steps } = deps(pair);
    const outcome = await executePlan(restart(), d);
    expect(verdict(outcome)).toEqual({
      state: 'failed',
      summary: 'failed — nothing was changed on node2: could not run keepalived -t on the new config on node2: ' +
        'test-config on node2 did not finish within 30s (host-side timeout, exit 124); ' +
        `a staged copy may be left at ${STAGED} (keepalived does not read it; the next change overwrites it)`,
      changes: untouched([STAGED]),
    });
    expect(onNode2(pair)).toEqual(['read-config', 'backup-config', 'stage-config', 'copy-owner', 'copy-mode', 'test-config']);
    expect(pair.applies).toEqual([]);
    expect(steps.map(([s]) => s)).not.toContain('rollback');
    expect(outcome.commands.at(-1)).toMatchObject({ id: 'test-config', exitCode: null, errorCode: 'ssh_command_timeout' });
  });

  it('keepalived -t refuses the new file: nothing changed', async () => {
    const pair = new FakePair();
    pair.testExit[STAGED] = { code: 1, stderr: "Unknown keyword 'priorty'" };
    const outcome = await executePlan(restart(), deps(pair).deps);
    expect(outcome.state).toBe('failed');
    expect(outcome.summary).toMatch(/^failed — nothing was changed on node2: keepalived -t refused the new config: /);
    expect(outcome.changes).toEqual(untouched([STAGED]));
    expect(pair.applies).toEqual([]);
  });

  it('the install is refused before it ran (mv never reached the host): nothing changed', async () => {
    const pair = new FakePair().fail('node2', 'install-config', { kind: 'refused' });
    const outcome = await executePlan(restart(), deps(pair).deps);
    expect(verdict(outcome)).toMatchObject({ state: 'failed', changes: untouched([STAGED]) });
    expect(outcome.summary).toMatch(/^failed — nothing was changed on node2: installing the new config failed on node2: /);
    expect(pair.applies).toEqual([]);
    expect(onNode2(pair)).not.toContain('backup-config (rollback)');
  });

  it('mv exits non-zero: it did not rename, so nothing changed', async () => {
    const pair = new FakePair().fail('node2', 'install-config', { kind: 'exit', code: 1, stderr: 'mv: cannot move' });
    const outcome = await executePlan(restart(), deps(pair).deps);
    expect(outcome.changes).toEqual(untouched([STAGED]));
    expect(outcome.state).toBe('failed');
    expect(pair.applies).toEqual([]);
  });
});

describe('executePlan: a promote that fails after touching the host rolls back only what changed', () => {
  it('the connection drops during the install (the rename happened): the file is restored, keepalived is not restarted', async () => {
    const pair = new FakePair().fail('node2', 'install-config', { kind: 'lost' });
    const outcome = await executePlan(restart(), deps(pair).deps);
    expect(verdict(outcome)).toEqual({
      state: 'rolled_back',
      summary: 'installing the new config failed on node2: the SSH connection to node2 dropped while install-config was running; ' +
        `rolled back: ${CONF} restored from ${BACKUP}, keepalived not restarted on node2; primary on node2, standby on no node as before`,
      changes: { node: 'node2', config: 'restored', service: 'unchanged', leftovers: [] },
    });
    expect(pair.files.node2![CONF]).toBe(NODE2_CONF);
    expect(pair.applies).toEqual([]);
  });

  it('the restart never reached the host: the installed file is restored, and keepalived is not restarted (twice or at all)', async () => {
    const pair = new FakePair().fail('node2', 'service-restart', { kind: 'refused', code: 'ssh_sudo_denied' });
    const outcome = await executePlan(restart(), deps(pair).deps);
    expect(verdict(outcome)).toMatchObject({ state: 'rolled_back', changes: { node: 'node2', config: 'restored', service: 'unchanged', leftovers: [] } });
    expect(outcome.rollback).toBe(`rolled back: ${CONF} restored from ${BACKUP}, keepalived not restarted on node2; primary on node2, standby on no node as before`);
    expect(pair.files.node2![CONF]).toBe(NODE2_CONF);
    expect(pair.applies).toEqual([]);
  });

  it('systemctl restart exits non-zero (it may have run): restore and restart again', async () => {
    const pair = new FakePair().fail('node2', 'service-restart', { kind: 'exit', code: 1, stderr: 'Job for keepalived.service failed' });
    const outcome = await executePlan(restart(), deps(pair).deps);
    expect(verdict(outcome)).toMatchObject({ state: 'rolled_back', changes: { node: 'node2', config: 'restored', service: 'restored', leftovers: [] } });
    expect(outcome.rollback).toMatch(/keepalived restarted again with the restored config on node2/);
    expect(onNode2(pair).slice(-6)).toEqual(['service-restart', 'backup-config', 'copy-owner', 'copy-mode', 'install-config', 'service-restart']);
    expect(pair.applies).toEqual(['node2 service-restart']);
  });

  it('the VIPs do not settle: the file is restored and keepalived reloaded again', async () => {
    const pair = new FakePair();
    pair.placement = { primary: ['node1'], standby: [] };
    const outcome = await executePlan(promoteRequest({ before: { primary: ['node1'], standby: [] } }), deps(pair).deps);
    expect(verdict(outcome)).toMatchObject({ state: 'rolled_back', changes: { node: 'node2', config: 'restored', service: 'restored', leftovers: [] } });
    expect(pair.applies).toEqual(['node2 service-reload', 'node2 service-reload']);
  });

  it('the rollback itself fails: says exactly what node2 holds now, not "may be half-changed"', async () => {
    const pair = new FakePair();
    pair.placement = { primary: ['node1'], standby: [] };
    // The install and reload go through; the rollback's reinstall is refused.
    pair.onApply = (p) => { p.fail('node2', 'install-config', { kind: 'refused' }); };
    const outcome = await executePlan(promoteRequest({ before: { primary: ['node1'], standby: [] } }), deps(pair).deps);
    expect(outcome.state).toBe('failed');
    expect(outcome.rollback).toBe(
      'ROLLBACK FAILED: reinstalling the backup failed on node2: install-config on node2 refused — node2 now: ' +
        `${CONF} replaced with the new config (not restored), keepalived reloaded; ` +
        `a staged copy may be left at ${STAGED} (keepalived does not read it; the next change overwrites it); check node2 by hand (backup: ${BACKUP})`,
    );
    expect(outcome.changes).toEqual({ node: 'node2', config: 'changed', service: 'changed', leftovers: [STAGED] });
  });
});

describe('executePlan: demote and start against a node that cannot be reached', () => {
  const demote = (): ChangeRequest => {
    const r = promoteRequest({ action: 'demote', node: 'node1', before: { primary: ['node1'], standby: [] }, expected: { primary: ['node2'], standby: [] } });
    return { ...r, action: 'demote', node: 'node1' };
  };

  it('demote with node1 cut off: "failed — nothing was changed on node1", no rollback, never "ROLLBACK FAILED"', async () => {
    const pair = new FakePair();
    pair.unreachable.add('node1');
    const { deps: d, steps } = deps(pair);
    const outcome = await executePlan(demote(), d);
    expect(outcome).toMatchObject({
      state: 'failed',
      summary: 'failed — nothing was changed on node1: could not check whether keepalived is running on node1: could not connect to node1 (198.51.100.x:22) within 5s',
      changes: { node: 'node1', service: 'unchanged', leftovers: [] },
    });
    expect(outcome.rollback).toBeUndefined();
    expect(steps.map(([s]) => s)).toEqual(['failed']);
    expect(pair.ran.filter((r) => r.startsWith('node1') && !r.endsWith('list-addresses'))).toEqual(['node1 service-is-active']);
  });

  it('systemctl stop refused by sudo: nothing changed', async () => {
    const pair = new FakePair().fail('node1', 'service-stop', { kind: 'refused', code: 'ssh_sudo_denied' });
    const outcome = await executePlan(demote(), deps(pair).deps);
    expect(outcome).toMatchObject({ state: 'failed', changes: { node: 'node1', service: 'unchanged', leftovers: [] } });
    expect(outcome.summary).toMatch(/^failed — nothing was changed on node1: systemctl stop failed on node1: /);
    expect(pair.active.node1).toBe(true);
  });

  it('the stop ran and then node1 vanished: the rollback fails and says keepalived was stopped', async () => {
    const pair = new FakePair();
    pair.placement = { primary: ['node1'], standby: [] };
    pair.onApply = (p) => { p.unreachable.add('node1'); };
    const outcome = await executePlan(demote(), deps(pair).deps);
    expect(outcome.state).toBe('failed');
    expect(outcome.rollback).toMatch(/^ROLLBACK FAILED: could not check whether keepalived is running on node1: .* — node1 now: keepalived stopped; check node1 by hand/);
    expect(outcome.changes).toEqual({ node: 'node1', service: 'changed', leftovers: [] });
  });

  it('start: systemctl start killed by a signal may have started it; the rollback stops it again', async () => {
    const pair = new FakePair();
    pair.active.node1 = false;
    pair.placement = { primary: ['node2'], standby: [] };
    pair.fail('node1', 'service-start', { kind: 'signal' });
    const r = promoteRequest({ action: 'start', node: 'node1', before: { primary: ['node2'], standby: [] }, expected: { primary: ['node2'], standby: [] } });
    const outcome = await executePlan({ ...r, action: 'start', node: 'node1' }, deps(pair).deps);
    expect(outcome.error).toBe('systemctl start failed on node1 (killed by SIGTERM)');
    expect(outcome.changes).toEqual({ node: 'node1', service: 'restored', leftovers: [] });
    expect(outcome.commands.find((c) => c.id === 'service-start')).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
  });
});

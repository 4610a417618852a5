import { describe, expect, it } from 'vitest';
import { executePlan } from '../../../src/approvals/execute-plan.ts';
import type { ChangeRequest } from '../../../src/approvals/types.ts';
import { CONF, deps, FakePair, MemoryJournal, NEW_CONF, NODE2_CONF, promoteRequest, waitUntil } from './fake-pair.ts';

describe('executePlan: promote', () => {
  it('backs up, stages, tests against the current file, installs, reloads once and verifies', async () => {
    const pair = new FakePair();
    const { deps: d, journal, steps } = deps(pair);
    const outcome = await executePlan(promoteRequest(), d);
    expect(outcome).toMatchObject({ state: 'succeeded', final: { primary: ['node2'], standby: [] }, backupPath: `${CONF}.vipbot-20261126T193000Z` });
    expect(pair.files.node2![CONF]).toBe(NEW_CONF);
    expect(pair.files.node2![`${CONF}.vipbot-20261126T193000Z`]).toBe(NODE2_CONF);
    expect(pair.applies).toEqual(['node2 service-reload']);
    expect(pair.ran.filter((r) => r.startsWith('node2') && !r.endsWith('list-addresses'))).toEqual([
      'node2 read-config', 'node2 backup-config', 'node2 stage-config', 'node2 copy-owner', 'node2 copy-mode',
      'node2 test-config', 'node2 test-config', 'node2 install-config', 'node2 service-reload',
    ]);
    expect(Object.keys(journal.steps).sort()).toEqual(['applied', 'applying', 'backup', 'begun', 'installed']);
    expect(steps.map(([s]) => s)).toEqual(['reread', 'backup', 'stage', 'test', 'install', 'apply', 'waiting', 'settled']);
    expect(outcome.commands.map((c) => c.id)).toContain('service-reload');
  });

  it('stops before touching anything when the config changed since the plan', async () => {
    const pair = new FakePair();
    pair.files.node2![CONF] = `${NODE2_CONF}# hand edit\n`;
    const outcome = await executePlan(promoteRequest(), deps(pair).deps);
    expect(outcome.state).toBe('failed');
    expect(outcome.error).toMatch(/plan is stale/);
    expect(pair.ran).not.toContain('node2 backup-config');
    expect(pair.applies).toEqual([]);
  });

  it('never installs a file keepalived -t finds worse than the current one', async () => {
    const pair = new FakePair();
    pair.testExit[`${CONF}.vipbot-new`] = { code: 1, stderr: "Unknown keyword 'priorty'" };
    const outcome = await executePlan(promoteRequest(), deps(pair).deps);
    expect(outcome.state).toBe('failed');
    expect(outcome.error).toMatch(/keepalived -t refused/);
    expect(pair.files.node2![CONF]).toBe(NODE2_CONF);
    expect(pair.ran).not.toContain('node2 install-config');
    expect(pair.applies).toEqual([]);
  });

  it('rolls back when the VIPs never settle: backup restored, applied again, placement as before', async () => {
    const pair = new FakePair();
    pair.placement = { primary: ['node1'], standby: [] };
    const request = promoteRequest({ before: { primary: ['node1'], standby: [] } });
    const { deps: d, steps } = deps(pair);
    const outcome = await executePlan(request, d);
    expect(outcome.state).toBe('rolled_back');
    expect(outcome.error).toMatch(/did not settle/);
    expect(outcome.rollback).toMatch(/rolled back: .* restored from .*vipbot-20261126T193000Z/);
    expect(pair.files.node2![CONF]).toBe(NODE2_CONF);
    expect(pair.applies).toEqual(['node2 service-reload', 'node2 service-reload']);
    expect(steps.map(([s]) => s)).toContain('rolled_back');
  });

  it('a retry after a crash between install and reload installs nothing again and reloads once', async () => {
    const pair = new FakePair();
    pair.crashAfter = 'install-config';
    const journal = new MemoryJournal();
    void executePlan(promoteRequest(), deps(pair, journal).deps);
    await waitUntil(() => pair.crashed);
    // The journal lost the 'installed' write with the worker; the host has the new file.
    expect(pair.files.node2![CONF]).toBe(NEW_CONF);
    pair.ran = [];
    const outcome = await executePlan(promoteRequest(), deps(pair, journal).deps);
    expect(outcome.state).toBe('succeeded');
    expect(pair.ran).not.toContain('node2 install-config');
    expect(pair.ran).not.toContain('node2 backup-config');
    expect(pair.applies).toEqual(['node2 service-reload']);
  });

  it('restart: a retry after a kill between the restart and its journal entry sees the new main PID and does not restart again', async () => {
    const pair = new FakePair();
    pair.crashAfter = 'service-restart';
    const journal = new MemoryJournal();
    void executePlan(promoteRequest({ apply: 'restart' }), deps(pair, journal).deps);
    await waitUntil(() => pair.crashed);
    expect(journal.steps.applying).toBe('200');
    const outcome = await executePlan(promoteRequest({ apply: 'restart' }), deps(pair, journal).deps);
    expect(outcome.state).toBe('succeeded');
    expect(pair.applies).toEqual(['node2 service-restart']);
  });

  it('restart: a retry when the restart never ran (same main PID) restarts once', async () => {
    const pair = new FakePair();
    const journal = new MemoryJournal();
    journal.steps = { begun: '1', backup: `${CONF}.vipbot-20261126T192900Z`, installed: '1', applying: '200' };
    pair.files.node2![CONF] = NEW_CONF;
    const outcome = await executePlan(promoteRequest({ apply: 'restart' }), deps(pair, journal).deps);
    expect(outcome.state).toBe('succeeded');
    expect(pair.applies).toEqual(['node2 service-restart']);
  });

  it('a retry after the reload only verifies', async () => {
    const pair = new FakePair();
    const journal = new MemoryJournal();
    journal.steps = { begun: '1', backup: `${CONF}.vipbot-20261126T192900Z`, installed: '1', applied: '1' };
    pair.files.node2![CONF] = NEW_CONF;
    const outcome = await executePlan(promoteRequest(), deps(pair, journal).deps);
    expect(outcome.state).toBe('succeeded');
    expect(pair.applies).toEqual([]);
    expect(pair.ran.filter((r) => !r.endsWith('list-addresses'))).toEqual([]);
  });
});

describe('executePlan: demote and start', () => {
  const demote = (): ChangeRequest => {
    const r = promoteRequest({ action: 'demote', node: 'node1', before: { primary: ['node1'], standby: [] }, expected: { primary: ['node2'], standby: [] } });
    return { ...r, action: 'demote', node: 'node1' };
  };

  it('stops keepalived and waits for the VIP to move', async () => {
    const pair = new FakePair();
    pair.placement = { primary: ['node1'], standby: [] };
    pair.onApply = (p, node) => { if (node === 'node1' && !p.active.node1) p.placement = { primary: ['node2'], standby: [] }; };
    const outcome = await executePlan(demote(), deps(pair).deps);
    expect(outcome).toMatchObject({ state: 'succeeded', final: { primary: ['node2'], standby: [] } });
    expect(pair.applies).toEqual(['node1 service-stop']);
  });

  it('starts keepalived again when the VIP does not move (rollback)', async () => {
    const pair = new FakePair();
    pair.placement = { primary: ['node1'], standby: [] };
    const outcome = await executePlan(demote(), deps(pair).deps);
    expect(outcome.state).toBe('rolled_back');
    expect(pair.applies).toEqual(['node1 service-stop', 'node1 service-start']);
    expect(pair.active.node1).toBe(true);
  });

  it('a stale plan (already stopped) changes nothing', async () => {
    const pair = new FakePair();
    pair.active.node1 = false;
    const outcome = await executePlan(demote(), deps(pair).deps);
    expect(outcome.state).toBe('failed');
    expect(outcome.error).toMatch(/already stopped/);
    expect(pair.applies).toEqual([]);
  });

  it('a retry after the stop was done but not journaled does not stop again', async () => {
    const pair = new FakePair();
    pair.placement = { primary: ['node1'], standby: [] };
    pair.onApply = (p) => { p.placement = { primary: ['node2'], standby: [] }; };
    pair.crashAfter = 'service-stop';
    const journal = new MemoryJournal();
    void executePlan(demote(), deps(pair, journal).deps);
    await waitUntil(() => pair.crashed);
    const outcome = await executePlan(demote(), deps(pair, journal).deps);
    expect(outcome.state).toBe('succeeded');
    expect(pair.applies).toEqual(['node1 service-stop']);
  });
});

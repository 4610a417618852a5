import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { executePlan, type ExecutionStep } from '../../../src/approvals/execute-plan.ts';
import type { Journal } from '../../../src/approvals/request-store.ts';
import type { ChangeRequest, Plan, VipPlacement } from '../../../src/approvals/types.ts';
import { parseConfigText, resolveNode, type SshSettings } from '../../../src/config/config.ts';
import type { NodeCommand } from '../../../src/hosts/node-commands.ts';
import { setInstancePriority } from '../../../src/keepalived/edit-conf.ts';
import type { NodeRunner } from '../../../src/status/collect-node-facts.ts';

const CONF = '/etc/keepalived/keepalived.conf';
const NODE2_CONF = readFileSync(new URL('../../fixtures/keepalived/node2.conf', import.meta.url), 'utf8');
const NEW_CONF = setInstancePriority(NODE2_CONF, 'VI_PRIMARY', 150).text;
const CONFIG = parseConfigText(`
clusters:
  - name: orcl
    vips:
      - { name: primary, instance: VI_PRIMARY, address: 198.51.100.100 }
      - { name: standby, instance: VI_STANDBY, address: 198.51.100.101 }
    nodes:
      - { name: node1, host: 198.51.100.1 }
      - { name: node2, host: 198.51.100.2 }
`);
const CLUSTER = CONFIG.clusters[0]!;
const NODES = CLUSTER.nodes.map((n) => resolveNode(CONFIG, CLUSTER, n));
const VIP_ADDRESS: Record<string, string> = { primary: '198.51.100.100', standby: '198.51.100.101' };

/** A pair of hosts in memory: files, services, VIPs; `onApply` decides where VIPs go after a reload. */
class FakePair implements NodeRunner {
  files: Record<string, Record<string, string>> = { node1: { [CONF]: 'node1 conf' }, node2: { [CONF]: NODE2_CONF } };
  active: Record<string, boolean> = { node1: true, node2: true };
  placement: VipPlacement = { primary: ['node2'], standby: [] };
  applies: string[] = [];
  ran: string[] = [];
  testExit: Record<string, { code: number; stderr: string }> = {};
  onApply: (pair: FakePair, node: string) => void = () => {};
  crashed = false;
  mainPid: Record<string, number> = { node1: 100, node2: 200 };
  /** The worker dies right after the command with this id ran on the host: nothing after it runs. */
  crashAfter?: string;

  async run(target: { name: string; ssh: SshSettings }, cmd: NodeCommand) {
    const node = target.name;
    const files = this.files[node]!;
    this.ran.push(`${node} ${cmd.id}`);
    const ok = (stdout = '') => ({ code: 0, stdout, stderr: '' });
    let result;
    switch (cmd.id) {
      case 'read-config': result = files[cmd.argv[2]!] === undefined ? { code: 1, stdout: '', stderr: 'No such file' } : ok(files[cmd.argv[2]!]); break;
      case 'backup-config': files[cmd.argv[4]!] = files[cmd.argv[3]!]!; result = ok(); break;
      case 'stage-config': files[cmd.argv[1]!.slice(3)] = cmd.stdin ?? ''; result = ok(); break;
      case 'copy-owner': case 'copy-mode': result = ok(); break;
      case 'test-config': result = { stdout: '', ...(this.testExit[cmd.argv[3]!] ?? { code: 0, stderr: '' }) }; break;
      case 'install-config': files[cmd.argv[4]!] = files[cmd.argv[3]!]!; delete files[cmd.argv[3]!]; result = ok(); break;
      case 'service-reload': case 'service-restart': case 'service-start': case 'service-stop':
        if (cmd.id === 'service-start') this.active[node] = true;
        if (cmd.id === 'service-stop') this.active[node] = false;
        if (cmd.id === 'service-restart') this.mainPid[node] = (this.mainPid[node] ?? 100) + 1;
        this.applies.push(`${node} ${cmd.id}`);
        this.onApply(this, node);
        result = ok();
        break;
      case 'service-show': result = ok(`MainPID=${this.mainPid[node] ?? 0}\nActiveState=active\n`); break;
      case 'service-is-active': result = { code: this.active[node] ? 0 : 3, stdout: this.active[node] ? 'active\n' : 'inactive\n', stderr: '' }; break;
      case 'list-addresses': {
        const lines = Object.entries(this.placement).filter(([, holders]) => holders.includes(node)).map(([vip]) => `3: eth0    inet ${VIP_ADDRESS[vip]}/32 scope global eth0\\       valid_lft forever preferred_lft forever`);
        result = ok(lines.join('\n') + '\n');
        break;
      }
      default: throw new Error(`unexpected ${cmd.id}`);
    }
    if (this.crashAfter === cmd.id) {
      this.crashAfter = undefined;
      this.crashed = true;
      return new Promise<never>(() => {});
    }
    return result;
  }
}

class MemoryJournal implements Journal {
  steps: Record<string, string> = {};
  async load() { return { ...this.steps }; }
  async record(step: string, value = 'x') { this.steps[step] = value; }
}

async function waitUntil(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !predicate(); i++) await new Promise((r) => setImmediate(r));
  expect(predicate()).toBe(true);
}

function promoteRequest(overrides: Partial<Plan> = {}): ChangeRequest {
  const plan: Plan = {
    action: 'promote', cluster: 'orcl', node: 'node2', vip: 'primary', instance: 'VI_PRIMARY', priority: { before: 90, after: 150 },
    baseConfig: NODE2_CONF, newConfig: NEW_CONF, diff: '-      priority 90\n+      priority 150',
    commands: [], before: { primary: ['node2'], standby: [] }, expected: { primary: ['node2'], standby: [] }, checks: [],
    apply: 'reload', configPath: CONF, service: 'keepalived', convergeTimeoutMs: 300, ...overrides,
  };
  return { id: 'abc234', action: plan.action, cluster: 'orcl', node: plan.node, force: false, state: 'running', requestedBy: 'U0OPER1', approvedBy: 'U0LEAD1', channel: 'C0VIPOPS', messageTs: '1.1', createdAt: 0, expiresAt: 1, plan };
}

function deps(pair: FakePair, journal = new MemoryJournal()) {
  const steps: Array<[ExecutionStep, string]> = [];
  let clock = Date.parse('2026-11-26T19:30:00Z');
  return {
    journal,
    steps,
    deps: {
      runner: pair, nodes: NODES, journal,
      progress: async (step: ExecutionStep, detail: string) => { steps.push([step, detail]); },
      now: () => clock,
      sleep: async (ms: number) => { clock += ms; },
      pollIntervalMs: 100,
    },
  };
}

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

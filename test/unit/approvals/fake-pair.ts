/**
 * Test doubles for the executor: a pair of hosts in memory (files, services, VIPs) that can fail any
 * command the way SSH does, an in-memory journal, and request builders.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { ExecutionStep } from '../../../src/approvals/execute-plan.ts';
import type { Journal } from '../../../src/approvals/request-store.ts';
import type { ChangeRequest, Plan, VipPlacement } from '../../../src/approvals/types.ts';
import { parseConfigText, resolveNode, type SshSettings } from '../../../src/config/config.ts';
import { VipbotError } from '../../../src/errors.ts';
import type { NodeCommand } from '../../../src/hosts/node-commands.ts';
import { setInstancePriority } from '../../../src/keepalived/edit-conf.ts';
import type { NodeRunner } from '../../../src/status/collect-node-facts.ts';

export const CONF = '/etc/keepalived/keepalived.conf';
export const NODE2_CONF = readFileSync(new URL('../../fixtures/keepalived/node2.conf', import.meta.url), 'utf8');
export const NEW_CONF = setInstancePriority(NODE2_CONF, 'VI_PRIMARY', 150).text;
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
export const NODES = CLUSTER.nodes.map((n) => resolveNode(CONFIG, CLUSTER, n));
const VIP_ADDRESS: Record<string, string> = { primary: '198.51.100.100', standby: '198.51.100.101' };

/**
 * How a command fails, as the SSH pool reports it: `refused` never reached the host (connect timeout,
 * sudo refusal); `lost` ran on the host, then the connection dropped (outcome unknown to the bot);
 * `timeout` is the host-side `timeout` killing it (the pool's ssh_command_timeout; nothing happened);
 * `exit` ran and failed; `signal` died by SIGTERM without an exit code.
 */
export type Failure =
  | { kind: 'refused'; code?: string }
  | { kind: 'lost' }
  | { kind: 'timeout' }
  | { kind: 'exit'; code: number; stderr?: string }
  | { kind: 'signal' };

/** A pair of hosts in memory: files, services, VIPs; `onApply` decides where VIPs go after a reload. */
export class FakePair implements NodeRunner {
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
  /** Nodes that answer nothing (cut off): every command fails to connect. */
  unreachable = new Set<string>();
  private failures: Array<{ at: string; failure: Failure }> = [];

  /** The next run of command `id` on `node` fails so (once per call; queue several for several). */
  fail(node: string, id: string, failure: Failure): this {
    this.failures.push({ at: `${node} ${id}`, failure });
    return this;
  }

  async run(target: { name: string; ssh: SshSettings }, cmd: NodeCommand) {
    const node = target.name;
    const files = this.files[node]!;
    this.ran.push(`${node} ${cmd.id}`);
    if (this.unreachable.has(node)) throw new VipbotError('ssh_connect_timeout', `could not connect to ${node} (198.51.100.x:22) within 5s`);
    const index = this.failures.findIndex((f) => f.at === `${node} ${cmd.id}`);
    const failure = index >= 0 ? this.failures.splice(index, 1)[0]!.failure : undefined;
    switch (failure?.kind) {
      case 'refused': throw new VipbotError(failure.code ?? 'ssh_connect_timeout', `${cmd.id} on ${node} refused`);
      case 'timeout': throw new VipbotError('ssh_command_timeout', `${cmd.id} on ${node} did not finish within 30s (host-side timeout, exit 124)`);
      case 'exit': return { code: failure.code, stdout: '', stderr: failure.stderr ?? `${cmd.id} failed` };
      case 'signal': return { code: null, signal: 'SIGTERM', stdout: '', stderr: '' };
      default: break;
    }
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
    if (failure?.kind === 'lost') throw new VipbotError('ssh_connection_lost', `the SSH connection to ${node} dropped while ${cmd.id} was running`);
    if (this.crashAfter === cmd.id) {
      this.crashAfter = undefined;
      this.crashed = true;
      return new Promise<never>(() => {});
    }
    return result;
  }
}

export class MemoryJournal implements Journal {
  steps: Record<string, string> = {};
  async load() { return { ...this.steps }; }
  async record(step: string, value = 'x') { this.steps[step] = value; }
}

export async function waitUntil(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !predicate(); i++) await new Promise((r) => setImmediate(r));
  expect(predicate()).toBe(true);
}

export function promoteRequest(overrides: Partial<Plan> = {}): ChangeRequest {
  const plan: Plan = {
    action: 'promote', cluster: 'orcl', node: 'node2', vip: 'primary', instance: 'VI_PRIMARY', priority: { before: 90, after: 150 },
    baseConfig: NODE2_CONF, newConfig: NEW_CONF, diff: '-      priority 90\n+      priority 150',
    commands: [], before: { primary: ['node2'], standby: [] }, expected: { primary: ['node2'], standby: [] }, checks: [],
    apply: 'reload', configPath: CONF, service: 'keepalived', convergeTimeoutMs: 300, ...overrides,
  };
  return { id: 'abc234', action: plan.action, cluster: 'orcl', node: plan.node, force: false, state: 'running', requestedBy: 'U0OPER1', approvedBy: 'U0LEAD1', channel: 'C0VIPOPS', messageTs: '1.1', createdAt: 0, expiresAt: 1, plan };
}

export function deps(pair: FakePair, journal = new MemoryJournal()) {
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


/**
 * The promote benchmark (issue 3): the notes' scenario on the 2-host lab — node1's database down,
 * node2 PRIMARY holding the primary VIP — then `/vip promote node2`, approved by reaction. Measured:
 * time from the approval to the request settled (VIP where the plan says, job finished), and from a
 * probe reading both hosts' addresses every 50 ms during the change, how long each VIP sat on no
 * host and on two hosts. Once with `apply: reload`, once with `apply: restart`.
 *
 * Runs the bot in this process (HTTP receiver, BullMQ on Redis, SSH to the lab, local Slack stand-in)
 * and drives it with signed requests. The lab is put back as it was found (configs, roles, VIPs).
 */
import { hostExec, setRole, vipHolders, waitFor } from '../lab/lab.ts';
import { loadConfig, type VipbotConfig } from '../src/config/config.ts';
import { startBotHarness } from '../test/support/bot-harness.ts';

const CONF = '/etc/keepalived/keepalived.conf';
const PROBE_MS = 50;
const OPERATOR = 'U0OPER1';
const APPROVER = 'U0LEAD1';

export interface PromoteRun {
  apply: 'reload' | 'restart';
  /** Reaction POSTed → request succeeded (VIPs verified where the plan says). */
  approvalToSettledMs: number;
  /** Executor's own figure: start of execution → VIPs settled. */
  executorSettledMs?: number;
  /** Per VIP: probe time with the VIP on no host / on two hosts, and the probe's sample count. */
  vips: Record<string, { noneMs: number; twoMs: number }>;
  samples: number;
  outcome: string;
}

interface RequestPayload { request_id: string; state: string }

export async function benchPromote(configPath: string, redisUrl: string, log: (line: string) => void): Promise<PromoteRun[]> {
  const originals = new Map<string, string>();
  for (const node of ['node1', 'node2']) originals.set(node, (await hostExec(node, ['cat', CONF])).stdout);
  const config = loadConfig(configPath);
  const orcl = config.clusters.find((c) => c.name === 'orcl');
  if (!orcl) throw new Error('the lab config has no cluster orcl');
  const addressOf = Object.fromEntries(orcl.vips.map((v) => [v.name, v.address]));
  const runs: PromoteRun[] = [];
  try {
    for (const apply of ['reload', 'restart'] as const) {
      log(`promote bench: apply ${apply}`);
      await restore(originals);
      await setRole('node1', 'down');
      await setRole('node2', 'PRIMARY');
      await waitFor(async () => (await vipHolders())[addressOf.primary!]?.join() === 'node2', 30_000, 'primary VIP on node2 after the failover');
      runs.push(await promoteOnce(withApply(config, apply), redisUrl, addressOf));
    }
  } finally {
    await restore(originals);
  }
  return runs;
}

function withApply(config: VipbotConfig, apply: 'reload' | 'restart'): VipbotConfig {
  return {
    ...config,
    clusters: config.clusters.filter((c) => c.name === 'orcl'),
    access: { ...config.access, operators: [OPERATOR], approvers: [APPROVER] },
    keepalived: { ...config.keepalived, apply, convergeTimeout: 30_000 },
  };
}

async function promoteOnce(config: VipbotConfig, redisUrl: string, addressOf: Record<string, string>): Promise<PromoteRun> {
  const bot = await startBotHarness({ config, redisUrl });
  const samples: Array<{ t: number; holders: Record<string, string[]> }> = [];
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const t = Date.now();
      const holders = await vipHolders();
      samples.push({ t, holders });
      await new Promise((r) => setTimeout(r, Math.max(0, PROBE_MS - (Date.now() - t))));
    }
  })();
  try {
    const started = Date.now();
    await bot.command('promote node2', { userId: OPERATOR });
    const posted = await bot.webApi.waitForCall((c) => c.method === 'chat.postMessage' && c.at >= started && payloadOf(c.args)?.state === 'pending', 30_000);
    const id = payloadOf(posted.args)!.request_id;
    await bot.webApi.waitForCall((c) => c.method === 'reactions.add' && c.args.timestamp === posted.ts && c.args.name === 'x', 10_000);
    const approvedAt = Date.now();
    await bot.react(posted.ts!, 'white_check_mark', APPROVER);
    const done = await bot.webApi.waitForCall((c) => c.method === 'chat.update' && payloadOf(c.args)?.request_id === id && ['succeeded', 'failed', 'rolled_back'].includes(payloadOf(c.args)!.state), 90_000);
    const settledAt = done.at;
    // Keep probing a little: a VIP that leaves right after "settled" must show up too.
    await new Promise((r) => setTimeout(r, 1_000));
    probing = false;
    await probe;
    const audit = await bot.runtime.audit.forRequest(id);
    const finished = audit.find((e) => e.event === 'finished');
    const outcome = (finished?.detail as { outcome?: { settledMs?: number } } | undefined)?.outcome;
    const window = samples.filter((s) => s.t >= approvedAt);
    const vips: PromoteRun['vips'] = {};
    for (const [name, address] of Object.entries(addressOf)) {
      let noneMs = 0;
      let twoMs = 0;
      for (let i = 0; i < window.length - 1; i++) {
        const span = window[i + 1]!.t - window[i]!.t;
        const n = window[i]!.holders[address]?.length ?? 0;
        // The standby VIP has no holder in this scenario (no node is PHYSICAL STANDBY): count only changes.
        if (n === 0 && (samples[0]?.holders[address]?.length ?? 0) > 0) noneMs += span;
        if (n >= 2) twoMs += span;
      }
      vips[name] = { noneMs, twoMs };
    }
    return {
      apply: config.keepalived.apply,
      approvalToSettledMs: settledAt - approvedAt,
      ...(outcome?.settledMs !== undefined ? { executorSettledMs: outcome.settledMs } : {}),
      vips,
      samples: window.length,
      outcome: payloadOf(done.args)!.state,
    };
  } finally {
    probing = false;
    await probe.catch(() => undefined);
    await bot.stop();
  }
}

function payloadOf(args: Record<string, unknown>): RequestPayload | undefined {
  const meta = args.metadata as { event_type?: string; event_payload?: RequestPayload } | undefined;
  return meta?.event_type === 'vip_request' ? meta.event_payload : undefined;
}

/** Configs back to what they were, keepalived running, roles as the lab starts them. */
async function restore(originals: Map<string, string>): Promise<void> {
  for (const [node, text] of originals) {
    if ((await hostExec(node, ['cat', CONF])).stdout !== text) {
      await hostExec(node, ['dd', `of=${CONF}`, 'status=none'], { input: text });
      await hostExec(node, ['systemctl', 'reload', 'keepalived']);
    }
    if ((await hostExec(node, ['systemctl', 'is-active', 'keepalived'])).code !== 0) await hostExec(node, ['systemctl', 'start', 'keepalived']);
  }
  await setRole('node1', 'PRIMARY');
  await setRole('node2', 'STANDBY');
  await waitFor(async () => {
    const h = await vipHolders();
    return h['198.51.100.100']?.join() === 'node1' && h['198.51.100.101']?.join() === 'node2';
  }, 30_000, 'VIPs back on node1/node2');
}

/** The table rows for run.ts. */
export function formatPromoteRows(runs: PromoteRun[]): string[] {
  const lines: string[] = [];
  for (const run of runs) {
    const vipText = Object.entries(run.vips).map(([name, v]) => `${name}: none ${v.noneMs} ms, two ${v.twoMs} ms`).join('; ');
    lines.push(`promote (${run.apply.padEnd(7)}) approval -> settled ${String(run.approvalToSettledMs).padStart(6)} ms (executor ${run.executorSettledMs ?? '?'} ms), ${run.outcome}; probe every ${PROBE_MS} ms (${run.samples} samples): ${vipText}`);
  }
  const two = runs.every((r) => Object.values(r.vips).every((v) => v.twoMs === 0));
  const reload = runs.find((r) => r.apply === 'reload');
  const reloadNone = reload ? Object.values(reload.vips).every((v) => v.noneMs === 0) : false;
  lines.push(`target: never on two hosts ............................. ${two ? 'PASS' : 'FAIL'}`);
  lines.push(`target: with reload, no moment on no host ............... ${reloadNone ? 'PASS' : 'FAIL'}`);
  return lines;
}

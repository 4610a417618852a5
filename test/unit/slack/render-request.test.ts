import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { ChangeRequest, type ExecutionOutcome, type Plan, type RequestState } from '../../../src/approvals/types.ts';
import { blocksToText as rawText, emojiToUnicode } from '../../../src/slack/blocks-to-text.ts';

/** What a person reads: blocks as text with emoji shown as characters. */
const blocksToText = (blocks: readonly unknown[]): string => emojiToUnicode(rawText(blocks));
import type { MessageMetadata } from '../../../src/slack/notifier.ts';
import {
  describeCommandEnd,
  formatDuration,
  formatRelativeMinutes,
  formatSlackDate,
  formatStep,
  renderApprovalMessage,
  renderRefusal,
  SLACK_LIMITS,
  VipRequestPayload,
} from '../../../src/slack/render-request.ts';

const ACCESS = { approveReactions: ['white_check_mark', 'heavy_check_mark', '+1'], rejectReactions: ['x', 'no_entry_sign'] };
const CREATED = Date.UTC(2026, 10, 26, 3, 0, 0);
const EXPIRES = CREATED + 15 * 60_000;

const DIFF = [
  '--- a/etc/keepalived/keepalived.conf',
  '+++ b/etc/keepalived/keepalived.conf',
  '@@ -12,7 +12,7 @@ vrrp_instance VI_PRIMARY {',
  '     interface eth0',
  '     virtual_router_id 51',
  '-    priority 90',
  '+    priority 150',
  '     advert_int 1',
  '',
].join('\n');

const PROMOTE_PLAN: Plan = {
  action: 'promote',
  cluster: 'orcl',
  node: 'node2',
  vip: 'primary',
  instance: 'VI_PRIMARY',
  priority: { before: 90, after: 150 },
  diff: DIFF,
  commands: [
    { node: 'node2', id: 'keepalived_test', display: 'keepalived -t -f /etc/keepalived/keepalived.conf.vipbot-new' },
    { node: 'node2', id: 'install_config', display: 'mv /etc/keepalived/keepalived.conf.vipbot-new /etc/keepalived/keepalived.conf' },
    { node: 'node2', id: 'systemctl_reload', display: 'systemctl reload keepalived' },
  ],
  before: { primary: ['node1'], standby: ['node2'] },
  expected: { primary: ['node2'], standby: ['node2'] },
  checks: [
    { ok: true, severity: 'blocker', message: 'node2 track script chk_db passes for VI_PRIMARY' },
    { ok: false, severity: 'warning', message: 'node1 (198.51.100.1) unreachable: connect timed out' },
  ],
  apply: 'reload',
  configPath: '/etc/keepalived/keepalived.conf',
  service: 'keepalived',
  convergeTimeoutMs: 30_000,
};

function makeRequest(overrides: Partial<ChangeRequest> = {}): ChangeRequest {
  return ChangeRequest.parse({
    id: 'k3x9q2',
    action: 'promote',
    cluster: 'orcl',
    node: 'node2',
    vip: 'primary',
    state: 'pending',
    requestedBy: 'U0ONCALL1',
    channel: 'C0VIPOPS',
    messageTs: '1790000000.000100',
    createdAt: CREATED,
    expiresAt: EXPIRES,
    plan: PROMOTE_PLAN,
    ...overrides,
  });
}

const NOW = CREATED + 3 * 60_000;

function header(blocks: KnownBlock[]): string {
  const h = blocks[0];
  if (h?.type !== 'header') throw new Error('first block is not a header');
  return h.text.text;
}

/** Every Slack limit this renderer promises to respect, plus balanced code fences. */
function expectWithinSlackLimits(blocks: KnownBlock[]): void {
  expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const b of blocks) {
    if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    if (b.type === 'section') {
      if (b.text) {
        expect(b.text.text.length).toBeGreaterThan(0);
        expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
        expect((b.text.text.match(/```/g) ?? []).length % 2).toBe(0);
      }
      expect((b.fields ?? []).length).toBeLessThanOrEqual(SLACK_LIMITS.fields);
      for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionField);
    }
  }
}

describe('renderApprovalMessage', () => {
  it('renders a pending promote with plan, diff, commands, checks and how to answer', () => {
    const msg = renderApprovalMessage(makeRequest(), ACCESS, NOW);
    expect(header(msg.blocks)).toBe('Promote node2 (primary) — waiting for approval');
    expect(msg.text).toBe('Promote node2 (primary) on orcl: waiting for approval · request k3x9q2 from <@U0ONCALL1>');
    expect(msg.metadata).toStrictEqual({
      event_type: 'vip_request',
      event_payload: { request_id: 'k3x9q2', action: 'promote', cluster: 'orcl', node: 'node2', vip: 'primary', state: 'pending', requested_by: 'U0ONCALL1' },
    });
    const text = blocksToText(msg.blocks);
    expect(text).toContain('*Requested by*\n<@U0ONCALL1>');
    expect(text).toContain('<!date^1795662900^{date_short_pretty} {time}|2026-11-26 03:15 UTC> (in 12 min)');
    expect(text).toContain('`k3x9q2`');
    expect(text).toContain('• VIP `primary`: node1 ➡️ *node2*');
    expect(text).toContain('• VIP `standby`: stays on node2');
    expect(text).toContain('• `VI_PRIMARY` priority on node2: 90 ➡️ *150*, applied with `reload`');
    expect(text).toContain('*Config change* (`/etc/keepalived/keepalived.conf`)\n```--- a/etc/keepalived/keepalived.conf');
    expect(text).toContain('-    priority 90\n+    priority 150');
    expect(text).toContain('```1. node2$ keepalived -t -f /etc/keepalived/keepalived.conf.vipbot-new\n2. node2$ mv');
    expect(text).toContain('3. node2$ systemctl reload keepalived```');
    expect(text).toContain('✅ node2 track script chk_db passes for VI_PRIMARY');
    expect(text).toContain('⚠️ node1 (198.51.100.1) unreachable: connect timed out');
    expect(text).toContain(
      'React with ✅ (or ✔️ 👍) to approve (approvers, not the requester), ❌ (or 🚫) to reject. `/vip cancel k3x9q2` withdraws it.',
    );
    expectWithinSlackLimits(msg.blocks);
  });

  it('uses the first configured reactions in the instructions', () => {
    const msg = renderApprovalMessage(makeRequest(), { approveReactions: ['thumbsup'], rejectReactions: ['thumbsdown'] }, NOW);
    expect(blocksToText(msg.blocks)).toContain('React with :thumbsup: to approve (approvers, not the requester), :thumbsdown: to reject.');
  });

  const OK_OUTCOME: ExecutionOutcome = {
    state: 'succeeded',
    summary: 'node2 now has priority 150 on VI_PRIMARY and holds primary.',
    commands: [
      { node: 'node2', id: 'keepalived_test', display: 'keepalived -t -f /etc/keepalived/keepalived.conf.vipbot-new', exitCode: 0, durationMs: 42, at: NOW },
      { node: 'node2', id: 'systemctl_reload', display: 'systemctl reload keepalived', exitCode: 0, durationMs: 1500, at: NOW },
    ],
    final: { primary: ['node2'], standby: ['node2'] },
    settledMs: 3200,
    backupPath: '/etc/keepalived/keepalived.conf.vipbot-20261126T030500Z',
  };
  const ROLLED_BACK: ExecutionOutcome = {
    state: 'rolled_back',
    summary: 'primary did not move to node2 within 30 s.',
    error: 'node2 track script chk_db failed after approval',
    rollback: 'backup restored, keepalived reloaded, primary back on node1',
    commands: [{ node: 'node2', id: 'systemctl_reload', display: 'systemctl reload keepalived', exitCode: null, durationMs: 10_000, error: 'timed out', at: NOW }],
    final: { primary: ['node1'], standby: ['node2'] },
  };

  type Row = [RequestState, Partial<ChangeRequest>, ExecutionOutcome | undefined, string, string[], string[]];
  it.each<Row>([
    ['approved', { approvedBy: 'U0LEAD1' }, undefined, 'Promote node2 (primary) — approved', ['*Approved* by <@U0LEAD1>', 'queued to run', 'progress in the thread'], ['React with', 'Outcome']],
    ['running', { approvedBy: 'U0LEAD1' }, undefined, 'Promote node2 (primary) — running', ['*Running* · approved by <@U0LEAD1>', 'progress in the thread'], ['React with']],
    [
      'succeeded',
      { approvedBy: 'U0LEAD1' },
      OK_OUTCOME,
      'Promote node2 (primary) — succeeded',
      [
        '*Succeeded* · approved by <@U0LEAD1>',
        '*Outcome*\nnode2 now has priority 150 on VI_PRIMARY and holds primary.\nSettled in 3.2 s.',
        'Backup: `/etc/keepalived/keepalived.conf.vipbot-20261126T030500Z`',
        '✅ VIP `primary` on *node2*',
        'node2$ systemctl reload keepalived  → exit 0 · 1.5 s',
      ],
      ['React with', 'progress in the thread', 'Error'],
    ],
    [
      'rolled_back',
      { approvedBy: 'U0LEAD1' },
      ROLLED_BACK,
      'Promote node2 (primary) — failed — rolled back',
      [
        '*Failed — rolled back* to the previous config',
        '❌ *Error:* node2 track script chk_db failed after approval',
        '↩️ *Rollback:* backup restored, keepalived reloaded, primary back on node1',
        '⚠️ VIP `primary` on *node1* (planned: node2)',
        '→ error: timed out · 10 s',
      ],
      ['React with'],
    ],
    ['failed', { approvedBy: 'U0LEAD1', outcome: 'plan is stale, request again' }, undefined, 'Promote node2 (primary) — failed', ['*Failed*', '*Outcome*\nplan is stale, request again'], ['React with']],
    ['expired', {}, undefined, 'Promote node2 (primary) — expired', ['*Expired* <!date^1795662900', 'Request again with `/vip promote node2 primary`', 'Nothing was changed on the hosts.'], ['React with', 'in 12 min']],
    ['rejected', { rejectedBy: 'U0LEAD1' }, undefined, 'Promote node2 (primary) — rejected', ['*Rejected* by <@U0LEAD1>', 'Nothing was changed on the hosts.'], ['React with']],
    ['cancelled', {}, undefined, 'Promote node2 (primary) — cancelled', ['*Cancelled*', 'Nothing was changed on the hosts.'], ['React with', 'Outcome']],
  ])('%s', (state, extra, outcome, head, present, absent) => {
    const request = makeRequest({ state, ...extra });
    const msg = renderApprovalMessage(request, ACCESS, NOW, outcome);
    expect(header(msg.blocks)).toBe(head);
    const text = blocksToText(msg.blocks);
    for (const p of present) expect(text).toContain(p);
    for (const a of absent) expect(text).not.toContain(a);
    expect(msg.metadata.event_payload).toStrictEqual({
      request_id: 'k3x9q2',
      action: 'promote',
      cluster: 'orcl',
      node: 'node2',
      vip: 'primary',
      state,
      requested_by: 'U0ONCALL1',
      ...(request.approvedBy ? { approved_by: request.approvedBy } : {}),
    });
    expect(VipRequestPayload.parse(msg.metadata.event_payload)).toStrictEqual(msg.metadata.event_payload);
    expectWithinSlackLimits(msg.blocks);
  });

  it('shows a pending request past its expiry as expired, keeping the stored state in metadata', () => {
    const msg = renderApprovalMessage(makeRequest(), ACCESS, EXPIRES + 1);
    expect(header(msg.blocks)).toBe('Promote node2 (primary) — expired');
    expect(blocksToText(msg.blocks)).not.toContain('React with');
    expect(msg.metadata.event_payload.state).toBe('pending');
  });

  it('puts demote and start plans in words and omits vip from metadata when absent', () => {
    const plan: Plan = {
      ...PROMOTE_PLAN,
      action: 'demote',
      node: 'node1',
      vip: undefined,
      instance: undefined,
      priority: undefined,
      diff: undefined,
      serviceActiveBefore: true,
      commands: [{ node: 'node1', id: 'systemctl_stop', display: 'systemctl stop keepalived' }],
      before: { primary: ['node1'] },
      expected: { primary: ['node2'] },
      checks: [],
    };
    const msg = renderApprovalMessage(makeRequest({ action: 'demote', node: 'node1', vip: undefined, plan }), ACCESS, NOW);
    expect(header(msg.blocks)).toBe('Demote node1 — waiting for approval');
    const text = blocksToText(msg.blocks);
    expect(text).toContain('• `keepalived` on node1: running ➡️ *stopped*');
    expect(text).not.toContain('Config change');
    expect(text).not.toContain('Pre-checks');
    expect(msg.metadata.event_payload).toStrictEqual({ request_id: 'k3x9q2', action: 'demote', cluster: 'orcl', node: 'node1', state: 'pending', requested_by: 'U0ONCALL1' });

    const start = renderApprovalMessage(makeRequest({ action: 'start', node: 'node1', vip: undefined, plan: { ...plan, action: 'start', serviceActiveBefore: false } }), ACCESS, NOW);
    expect(header(start.blocks)).toBe('Start keepalived on node1 — waiting for approval');
    expect(blocksToText(start.blocks)).toContain('• `keepalived` on node1: stopped ➡️ *running*');
  });

  it('keeps a 5000-line diff, 500 commands and 300 checks within Slack limits, with notes', () => {
    const bigDiff = Array.from({ length: 5000 }, (_, i) => `+    # line ${i} of a very long generated block with <angle> & ampersand`).join('\n');
    const plan: Plan = {
      ...PROMOTE_PLAN,
      diff: bigDiff,
      commands: Array.from({ length: 500 }, (_, i) => ({ node: 'node2', id: 'x', display: `echo step ${i} ${'x'.repeat(40)}` })),
      checks: Array.from({ length: 300 }, (_, i) => ({ ok: false, severity: 'warning' as const, message: `check ${i} ${'y'.repeat(60)}` })),
    };
    const outcome: ExecutionOutcome = { ...ROLLED_BACK, error: 'e'.repeat(10_000), commands: Array.from({ length: 400 }, () => ROLLED_BACK.commands[0]!) };
    for (const state of ['pending', 'rolled_back'] as const) {
      const msg = renderApprovalMessage(makeRequest({ state, plan, approvedBy: 'U0LEAD1' }), ACCESS, NOW, outcome);
      expectWithinSlackLimits(msg.blocks);
      const text = blocksToText(msg.blocks);
      expect(text).toMatch(/_…\d+ more lines not shown; the audit log keeps the full diff\._/);
      expect(text).toMatch(/_…\d+ more lines not shown; the audit log keeps the full list\._/);
      expect(text).toMatch(/…\d+ more not shown/);
      expect(text).toContain('&lt;angle&gt; &amp; ampersand');
      expect(text).not.toContain('<angle>');
    }
  });

  it('clips a long header and escapes host text everywhere it appears', () => {
    const long = 'n'.repeat(200);
    const plan: Plan = { ...PROMOTE_PLAN, node: long, checks: [{ ok: false, severity: 'blocker', message: 'script printed <@U0EVIL> & ```' }] };
    const msg = renderApprovalMessage(makeRequest({ node: long, plan }), ACCESS, NOW);
    expect(header(msg.blocks)).toHaveLength(SLACK_LIMITS.headerText);
    expect(header(msg.blocks).endsWith('…')).toBe(true);
    // Host text outside code blocks goes through escapeHostText: no mention, and no backtick of the host's is live.
    expect(blocksToText(msg.blocks)).toContain('⛔ script printed &lt;@U0EVIL&gt; &amp; ˋˋˋ');
    expectWithinSlackLimits(msg.blocks);
  });

  it('breaks a code fence inside the diff so the block does not end early', () => {
    const msg = renderApprovalMessage(makeRequest({ plan: { ...PROMOTE_PLAN, diff: '+ notify "```"' } }), ACCESS, NOW);
    expect(blocksToText(msg.blocks)).toContain('```+ notify "`\u200b`\u200b`"```');
  });

  it('produces metadata the Notifier accepts', () => {
    const m: MessageMetadata = renderApprovalMessage(makeRequest(), ACCESS, NOW).metadata;
    expect(m.event_type).toBe('vip_request');
  });
});

describe('renderRefusal', () => {
  it('says why, lists failed checks and what would work (promote with a failing track script)', () => {
    const plan: Plan = {
      ...PROMOTE_PLAN,
      checks: [
        { ok: false, severity: 'blocker', message: "node2 track script chk_db fails (exit 1): promoting it would not move the VIP" },
        { ok: false, severity: 'warning', message: 'node1 unreachable' },
        { ok: true, severity: 'blocker', message: 'config readable' },
      ],
      refusal: "node2's track script for primary fails",
    };
    expect(renderRefusal(plan)).toBe(
      [
        ":no_entry: Cannot promote node2 (primary) on orcl: node2's track script for primary fails",
        'Checks that did not pass:',
        ':no_entry: node2 track script chk_db fails (exit 1): promoting it would not move the VIP',
        ':warning: node1 unreachable',
        'What would work: fix what the checks report on node2 (a failing track script means node2 would not take the VIP) and request again, or `/vip demote node1` to stop keepalived on the node that holds it. `/vip status orcl` shows the current state.',
      ].join('\n'),
    );
  });

  it('explains a no-op', () => {
    const plan: Plan = { ...PROMOTE_PLAN, noop: true, checks: [], refusal: 'node2 already has the highest priority (150) for primary' };
    expect(renderRefusal(plan)).toBe(
      ':information_source: Nothing to do for `promote node2 (primary) on orcl`: node2 already has the highest priority (150) for primary\n' +
        'What would work: nothing needs doing; `/vip status orcl` shows who holds each VIP.',
    );
  });

  it('suggests --force for a demote with no eligible peer', () => {
    const plan: Plan = { ...PROMOTE_PLAN, action: 'demote', node: 'node1', vip: undefined, checks: [{ ok: false, severity: 'blocker', message: 'no peer can take primary' }], refusal: 'primary would go nowhere' };
    const text = renderRefusal(plan);
    expect(text).toContain(':no_entry: Cannot demote node1 on orcl: primary would go nowhere');
    expect(text).toContain('`--force`');
  });
});

describe('formatting helpers', () => {
  it('formats Slack dates with a UTC fallback', () => {
    expect(formatSlackDate(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('<!date^1767323045^{date_short_pretty} {time}|2026-01-02 03:04 UTC>');
  });

  it.each([
    [15 * 60_000, 'in 15 min'],
    [20_000, 'in under a minute'],
    [0, 'in under a minute'],
    [-20_000, 'under a minute ago'],
    [-3 * 60_000, '3 min ago'],
    [125 * 60_000, 'in 125 min'],
  ])('relative %i ms → %s', (delta, out) => {
    expect(formatRelativeMinutes(NOW + delta, NOW)).toBe(out);
  });

  it.each([
    [850, '850 ms'],
    [3200, '3.2 s'],
    [10_000, '10 s'],
    [125_000, '2 min 5 s'],
    [120_000, '2 min'],
  ])('duration %i → %s', (ms, out) => {
    expect(formatDuration(ms)).toBe(out);
  });
});

describe('formatStep', () => {
  it('keeps a thread line to one escaped, bounded line', () => {
    expect(formatStep('failed', 'keepalived -t:\n  <line 3> bad\tkeyword & more')).toBe(':x: keepalived -t: &lt;line 3&gt; bad keyword &amp; more');
    const long = formatStep('test', 'z'.repeat(5000));
    expect(long).not.toContain('\n');
    expect(long.length).toBeLessThan(420);
  });
});

describe('renderApprovalMessage: the outcome says what is true (issue 8 item 10)', () => {
  const NOBODY_PLAN = { ...PROMOTE_PLAN, before: { primary: ['node1'], standby: [] }, expected: { primary: ['node2'], standby: [] } };
  const outcome = (over: Partial<ExecutionOutcome>): ExecutionOutcome => ({ state: 'succeeded', summary: 'primary on node2, standby on no node', commands: [], final: { primary: ['node2'], standby: [] }, ...over });
  const placementOf = (o: ExecutionOutcome): string => {
    const { blocks } = renderApprovalMessage(makeRequest({ state: o.state, approvedBy: 'U0LEAD1', plan: NOBODY_PLAN }), ACCESS, NOW, o);
    return blocksToText(blocks.filter((b) => b.type === 'section' && b.text?.text.startsWith('*Where the VIPs are now*')));
  };

  it('a VIP up on no node is red even when the plan said so, never a green tick', () => {
    expect(placementOf(outcome({}))).toBe('*Where the VIPs are now*\n✅ VIP `primary` on *node2*\n🔴 VIP `standby` on *nobody*: it is up on no node (as planned)');
  });

  it('a VIP on no node that answered, with a node unread, is unknown, not "nobody"', () => {
    expect(placementOf(outcome({ state: 'failed', final: { primary: [], standby: [] }, unreadNodes: ['node2'] }))).toBe(
      '*Where the VIPs are now*\n❔ VIP `primary` on none of the nodes that answered (node2 could not be read) (planned: node2)\n' +
        '❔ VIP `standby` on none of the nodes that answered (node2 could not be read)',
    );
  });

  it('a VIP on two nodes is an alarm', () => {
    expect(placementOf(outcome({ final: { primary: ['node1', 'node2'], standby: ['node2'] } }))).toBe(
      '*Where the VIPs are now*\n🚨 VIP `primary` on *node1 + node2* at once (planned: node2)\n⚠️ VIP `standby` on *node2* (planned: nobody)',
    );
  });

  it('the failure reason is not repeated when the summary already says it', () => {
    const reason = 'reading the config failed on node2: could not connect';
    const text = blocksToText(renderApprovalMessage(makeRequest({ state: 'failed', approvedBy: 'U0LEAD1' }), ACCESS, NOW, outcome({ state: 'failed', summary: `failed — nothing was changed on node2: ${reason}`, error: reason })).blocks);
    expect(text).toContain('*Outcome*\nfailed — nothing was changed on node2: reading the config failed on node2: could not connect');
    expect(text).not.toContain('*Error:*');
  });
});

describe('describeCommandEnd: how each command really ended, never "exit ?"', () => {
  const base = { node: 'node2', id: 'test-config', display: 'keepalived -t -f /etc/keepalived/keepalived.conf.vipbot-new', durationMs: 30_000, at: NOW };
  it.each<[string, Partial<Parameters<typeof describeCommandEnd>[0]>, string]>([
    ['an exit code', { exitCode: 5 }, 'exit 5'],
    ['a signal', { exitCode: null, signal: 'SIGTERM' }, 'killed by SIGTERM'],
    ['GNU timeout after its SIGTERM', { exitCode: null, errorCode: 'ssh_command_timeout', error: 'test-config on node2 (198.51.100.2) did not finish within 30s (host-side timeout, exit 124) — the host may be overloaded' }, 'timed out: stopped by the host-side timeout (exit 124)'],
    ['GNU timeout after --kill-after', { exitCode: null, errorCode: 'ssh_command_timeout', error: 'test-config on node2 (198.51.100.2) did not finish within 30s (host-side timeout, exit 137) — x' }, 'timed out: killed by the host-side timeout (SIGKILL after --kill-after, exit 137)'],
    ['the client-side guard', { exitCode: null, errorCode: 'ssh_command_timeout', error: 'test-config on node2 no answer within 35s (client-side guard; the connection is being replaced)' }, "timed out: no answer within the bot's own limit (connection dropped)"],
    ['a dropped connection', { exitCode: null, errorCode: 'ssh_connection_lost', error: 'dropped' }, 'connection lost while it ran: outcome unknown'],
    ['a host never reached', { exitCode: null, errorCode: 'ssh_connect_timeout', error: 'could not connect to node2 within 5s' }, 'not run: could not connect to node2 within 5s'],
    ['an old record with only the text', { exitCode: null, error: 'timed out' }, 'error: timed out'],
    ['nothing known', { exitCode: null }, 'ended without an exit code'],
  ])('%s', (_name, over, expected) => {
    expect(describeCommandEnd({ ...base, exitCode: null, ...over })).toBe(expected);
  });

  it('the commands run list shows it', () => {
    const o: ExecutionOutcome = { state: 'failed', summary: 'x', commands: [{ ...base, exitCode: null, signal: 'SIGTERM' }], final: { primary: ['node2'], standby: ['node2'] } };
    const text = blocksToText(renderApprovalMessage(makeRequest({ state: 'failed', approvedBy: 'U0LEAD1' }), ACCESS, NOW, o).blocks);
    expect(text).toContain('node2$ keepalived -t -f /etc/keepalived/keepalived.conf.vipbot-new  → killed by SIGTERM · 30 s');
    expect(text).not.toContain('exit ?');
  });
});

/**
 * Block Kit for destructive actions (SPEC §5): the approval message posted in the channel and updated
 * as the request moves, the refusal said only to the requester, and the one-line progress notes the
 * executor posts in the approval message's thread.
 *
 * Slack limits shape the code: at most 50 blocks per message, 3000 characters per section text, 2000
 * per section field, 150 per header. Diffs, command lists and host output can be long, so they are cut
 * by whole lines with a note saying how much was left out (the audit log keeps everything).
 */
import type { KnownBlock, SectionBlock } from '@slack/types';
import { z } from 'zod';
import { neverRan } from '../approvals/change-ledger.ts';
import type { ExecutionStep } from '../approvals/execute-plan.ts';
import { escapeHost, escapeHostText } from './escape.ts';
import { Action, FINAL_STATES, RequestState, type ChangeRequest, type CommandRecord, type ExecutionOutcome, type Plan, type PreCheck, type VipPlacement } from '../approvals/types.ts';

/** Slack's hard limits for the blocks this file builds. */
export const SLACK_LIMITS = { blocks: 50, sectionText: 3000, sectionField: 2000, fields: 10, headerText: 150 } as const;

/** The `vip_request` metadata payload (SPEC §6); optional keys are omitted, never null. */
export const VipRequestPayload = z.object({
  request_id: z.string(),
  action: Action,
  cluster: z.string(),
  node: z.string(),
  vip: z.string().optional(),
  state: RequestState,
  requested_by: z.string(),
  approved_by: z.string().optional(),
});
export type VipRequestPayload = z.infer<typeof VipRequestPayload>;

/** The approval message: fallback text, blocks and `vip_request` metadata, ready for postMessage/update. */
export interface ApprovalMessage {
  text: string;
  blocks: KnownBlock[];
  metadata: { event_type: 'vip_request'; event_payload: VipRequestPayload };
}

/** Which reactions approve or reject (the `access` section of the config). */
export interface ApprovalReactions {
  approveReactions: readonly string[];
  rejectReactions: readonly string[];
}

/** Emoji and words for each state; the header is plain text, so mentions go in the status line instead. */
const STATE_LOOK: Record<RequestState, { emoji: string; phrase: string }> = {
  pending: { emoji: ':hourglass_flowing_sand:', phrase: 'waiting for approval' },
  approved: { emoji: ':ballot_box_with_check:', phrase: 'approved' },
  running: { emoji: ':gear:', phrase: 'running' },
  succeeded: { emoji: ':white_check_mark:', phrase: 'succeeded' },
  failed: { emoji: ':x:', phrase: 'failed' },
  rolled_back: { emoji: ':leftwards_arrow_with_hook:', phrase: 'failed — rolled back' },
  expired: { emoji: ':alarm_clock:', phrase: 'expired' },
  rejected: { emoji: ':no_entry_sign:', phrase: 'rejected' },
  cancelled: { emoji: ':heavy_multiplication_x:', phrase: 'cancelled' },
};

/** The emoji shown for a request state (approval message, history). */
export function stateEmoji(state: RequestState): string {
  return STATE_LOOK[state].emoji;
}

/**
 * The approval message for a request at its current state. Pending: plan, pre-checks and how to
 * approve or reject. Final: the instructions go and the outcome (summary, error, rollback, where the
 * VIPs ended up) is shown; pass the {@link ExecutionOutcome} for the detail, otherwise
 * `request.outcome` is shown. A pending request past its expiry is shown as expired (nothing can
 * approve it any more) while the metadata keeps the stored state.
 */
export function renderApprovalMessage(
  request: ChangeRequest,
  access: ApprovalReactions,
  now: number = Date.now(),
  outcome?: ExecutionOutcome,
): ApprovalMessage {
  const shownState: RequestState = request.state === 'pending' && now >= request.expiresAt ? 'expired' : request.state;
  const final = FINAL_STATES.includes(shownState);
  const plan = request.plan;
  const blocks: KnownBlock[] = [];

  blocks.push({ type: 'header', text: { type: 'plain_text', text: clip(`${describeAction(request)} — ${STATE_LOOK[shownState].phrase}`, SLACK_LIMITS.headerText), emoji: true } });
  blocks.push(section(describeStatus(request, shownState, now)));
  blocks.push(fieldsSection(describeFields(request)));
  blocks.push(section(describePlan(plan)));
  if (plan.diff) {
    const where = plan.configPath ? ` (\`${escapeHostText(plan.configPath)}\`)` : '';
    blocks.push(section(renderCodeSection(`*Config change*${where}`, plan.diff.replace(/\n$/, '').split('\n'), 'the audit log keeps the full diff')));
  }
  if (plan.commands.length) {
    const lines = plan.commands.map((c, i) => `${i + 1}. ${c.node}$ ${c.display}`);
    blocks.push(section(renderCodeSection('*Node commands*, in order', lines, 'the audit log keeps the full list')));
  }
  if (plan.checks.length) blocks.push(section(renderChecks(plan.checks)));

  if (!final) {
    if (shownState === 'pending') blocks.push(section(describeInstructions(request, access)));
  } else {
    blocks.push(...renderOutcome(request, shownState, outcome));
  }
  const footer = shownState === 'approved' || shownState === 'running' ? ' · progress in the thread' : '';
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Request \`${request.id}\` · created ${formatSlackDate(request.createdAt)}${footer}` }] });

  return {
    text: summariseRequest(request, shownState),
    blocks: capBlocks(blocks),
    metadata: { event_type: 'vip_request', event_payload: buildRequestPayload(request) },
  };
}

/** The `vip_request` payload for a request (SPEC §6), absent optional keys left out. */
export function buildRequestPayload(request: ChangeRequest): VipRequestPayload {
  return {
    request_id: request.id,
    action: request.action,
    cluster: request.cluster,
    node: request.node,
    ...(request.vip !== undefined ? { vip: request.vip } : {}),
    state: request.state,
    requested_by: request.requestedBy,
    ...(request.approvedBy !== undefined ? { approved_by: request.approvedBy } : {}),
  };
}

/**
 * Why a request was refused, for the requester only: the plan's refusal, the checks that failed and
 * what would work instead. Plain mrkdwn text, one message.
 */
export function renderRefusal(plan: Plan): string {
  const what = `${plan.action} ${plan.node}${plan.vip ? ` (${plan.vip})` : ''} on ${plan.cluster}`;
  const lines: string[] = [];
  if (plan.noop) {
    lines.push(`:information_source: Nothing to do for \`${what}\`: ${escapeHostText(plan.refusal ?? 'the hosts are already as asked')}`);
  } else {
    lines.push(`:no_entry: Cannot ${what}: ${escapeHostText(plan.refusal ?? 'a pre-check failed')}`);
  }
  const failed = plan.checks.filter((c) => !c.ok);
  if (failed.length) {
    lines.push('Checks that did not pass:');
    for (const c of failed) lines.push(`${checkEmoji(c)} ${escapeHostText(c.message)}`);
  }
  lines.push(`What would work: ${suggestAlternative(plan)}`);
  return clip(lines.join('\n'), SLACK_LIMITS.sectionText);
}

/**
 * A time Slack shows in each reader's own time zone: `<!date^unix^{date_short_pretty} {time}|fallback>`.
 * The fallback (UTC) is what notifications and clients without date support show.
 */
export function formatSlackDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC>`;
}

/** "in 12 min", "3 min ago", "in under a minute": how far `at` is from `now`, in whole minutes. */
export function formatRelativeMinutes(at: number, now: number): string {
  const diff = at - now;
  const minutes = Math.round(Math.abs(diff) / 60_000);
  if (minutes === 0) return diff >= 0 ? 'in under a minute' : 'under a minute ago';
  return diff >= 0 ? `in ${minutes} min` : `${minutes} min ago`;
}

/** Folds text onto one line and cuts it to `limit` characters (with `…`). */
export function clipOneLine(text: string, limit: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > limit ? `${one.slice(0, limit - 1)}…` : one;
}

const STEP_EMOJI: Record<ExecutionStep, string> = {
  lock: ':lock:', reread: ':mag:', backup: ':floppy_disk:', stage: ':pencil2:', test: ':test_tube:', install: ':package:', apply: ':arrows_counterclockwise:',
  waiting: ':hourglass_flowing_sand:', settled: ':white_check_mark:', failed: ':x:', rollback: ':rewind:', rolled_back: ':leftwards_arrow_with_hook:', resume: ':repeat:',
};

/** Thread notes stay one line: a chatty step (host output) must not push the approval message away. */
const MAX_STEP_DETAIL = 400;

/** One thread line for an execution step: emoji and what happened, folded to one line, cut, host text escaped. */
export function formatStep(step: ExecutionStep, detail: string): string {
  return `${STEP_EMOJI[step]} ${escapeHostText(clipOneLine(detail, MAX_STEP_DETAIL))}`;
}

function describeAction(r: Pick<ChangeRequest, 'action' | 'node' | 'vip'>): string {
  switch (r.action) {
    case 'promote':
      return `Promote ${r.node}${r.vip ? ` (${r.vip})` : ''}`;
    case 'demote':
      return `Demote ${r.node}`;
    case 'start':
      return `Start keepalived on ${r.node}`;
  }
}

/** The command that would make the same request again (after expiry, rejection, failure). */
function requestCommand(r: Pick<ChangeRequest, 'action' | 'node' | 'vip'>): string {
  return `/vip ${r.action} ${r.node}${r.action === 'promote' && r.vip ? ` ${r.vip}` : ''}`;
}

/** The state line under the header: who moved the request and what happens next (people go here, not in the plain-text header). */
function describeStatus(r: ChangeRequest, state: RequestState, now: number): string {
  const { emoji } = STATE_LOOK[state];
  const by = r.approvedBy ? ` by <@${r.approvedBy}>` : '';
  switch (state) {
    case 'pending':
      return `${emoji} *Waiting for approval* · expires ${formatSlackDate(r.expiresAt)} (${formatRelativeMinutes(r.expiresAt, now)})`;
    case 'approved':
      return `${emoji} *Approved*${by} · queued to run`;
    case 'running':
      return `${emoji} *Running* · approved${by}`;
    case 'succeeded':
      return `${emoji} *Succeeded* · approved${by}`;
    case 'failed':
      return `${emoji} *Failed* · approved${by}`;
    case 'rolled_back':
      return `${emoji} *Failed — rolled back* to the previous config · approved${by}`;
    case 'expired':
      return `${emoji} *Expired* ${formatSlackDate(r.expiresAt)} with no approval; it can no longer be approved. Request again with \`${requestCommand(r)}\`.`;
    case 'rejected':
      return `${emoji} *Rejected*${r.rejectedBy ? ` by <@${r.rejectedBy}>` : ''}`;
    case 'cancelled':
      return `${emoji} *Cancelled*: withdrawn before it ran`;
  }
}

function describeFields(r: ChangeRequest): string[] {
  const fields = [`*Request*\n\`${r.id}\``, `*Requested by*\n<@${r.requestedBy}>`, `*Cluster*\n${r.cluster}`, `*Node*\n${r.node}`];
  if (r.vip) fields.push(`*VIP*\n${r.vip}`);
  if (r.force) fields.push('*Forced*\nyes');
  return fields;
}

function describePlan(plan: Plan): string {
  const lines = ['*Plan*'];
  if (plan.noop) lines.push(`• Nothing to change${plan.refusal ? `: ${escapeHostText(plan.refusal)}` : ''}`);
  for (const [vip, before, expected] of pairPlacements(plan.before, plan.expected)) {
    const moves = !samePlacement(before, expected);
    lines.push(moves ? `• VIP \`${vip}\`: ${formatHolders(before)} :arrow_right: *${formatHolders(expected)}*` : `• VIP \`${vip}\`: stays on ${formatHolders(expected)}`);
  }
  const apply = plan.apply ? `, applied with \`${plan.apply}\`` : '';
  if (plan.action === 'promote' && plan.priority) {
    lines.push(`• \`${plan.instance ?? 'instance'}\` priority on ${plan.node}: ${plan.priority.before} :arrow_right: *${plan.priority.after}*${apply}`);
  } else if (plan.action === 'demote') {
    lines.push(`• \`${plan.service}\` on ${plan.node}: ${describeService(plan.serviceActiveBefore)} :arrow_right: *stopped*`);
  } else if (plan.action === 'start') {
    lines.push(`• \`${plan.service}\` on ${plan.node}: ${describeService(plan.serviceActiveBefore)} :arrow_right: *running*`);
  }
  lines.push(`• The VIPs must settle within ${formatDuration(plan.convergeTimeoutMs)}, or the change is rolled back`);
  return lines.join('\n');
}

function describeService(active: boolean | undefined): string {
  return active === undefined ? 'unknown' : active ? 'running' : 'stopped';
}

function describeInstructions(r: ChangeRequest, access: ApprovalReactions): string {
  const [approve = 'white_check_mark', ...moreApprove] = access.approveReactions;
  const [reject = 'x', ...moreReject] = access.rejectReactions;
  const also = (names: readonly string[]): string => (names.length ? ` (or ${names.map((n) => `:${n}:`).join(' ')})` : '');
  return `React with :${approve}:${also(moreApprove)} to approve (approvers, not the requester), :${reject}:${also(moreReject)} to reject. \`/vip cancel ${r.id}\` withdraws it.`;
}

function renderChecks(checks: readonly PreCheck[]): string {
  const lines = checks.map((c) => `${checkEmoji(c)} ${escapeHostText(c.message)}`);
  const { kept, cut } = fitLines(lines, SLACK_LIMITS.sectionText - 100);
  return ['*Pre-checks*', ...kept, ...(cut ? [`…${cut} more not shown`] : [])].join('\n');
}

function checkEmoji(c: PreCheck): string {
  if (c.ok) return ':white_check_mark:';
  return c.severity === 'blocker' ? ':no_entry:' : c.severity === 'warning' ? ':warning:' : ':information_source:';
}

function renderOutcome(r: ChangeRequest, state: RequestState, outcome: ExecutionOutcome | undefined): KnownBlock[] {
  if (state === 'rejected' || state === 'expired' || state === 'cancelled') {
    return [section(`Nothing was changed on the hosts.${r.outcome ? ` ${escapeHostText(r.outcome)}` : ''}`)];
  }
  if (!outcome) return r.outcome ? [section(`*Outcome*\n${escapeHostText(r.outcome)}`)] : [];
  const lines = [`*Outcome*`, escapeHostText(outcome.summary)];
  if (outcome.settledMs !== undefined) lines.push(`Settled in ${formatDuration(outcome.settledMs)}.`);
  if (outcome.error && !outcome.summary.includes(outcome.error)) lines.push(`:x: *Error:* ${escapeHostText(outcome.error)}`);
  if (outcome.rollback) lines.push(`:leftwards_arrow_with_hook: *Rollback:* ${escapeHostText(outcome.rollback)}`);
  if (outcome.backupPath) lines.push(`Backup: \`${escapeHostText(outcome.backupPath)}\``);
  const out: KnownBlock[] = [section(clipLines(lines.join('\n'), SLACK_LIMITS.sectionText))];

  const placement = ['*Where the VIPs are now*'];
  for (const [vip, expected, final] of pairPlacements(r.plan.expected, outcome.final)) {
    placement.push(describeFinalHolders(vip, expected, final, outcome.unreadNodes ?? []));
  }
  if (placement.length > 1) out.push(section(placement.join('\n')));

  if (outcome.commands.length) {
    const ran = outcome.commands.map((c) => `${c.node}$ ${c.display}  → ${describeCommandEnd(c)} · ${formatDuration(c.durationMs)}`);
    out.push(section(renderCodeSection('*Commands run*', ran, 'the audit log keeps every command')));
  }
  return out;
}

/**
 * One VIP after the action. A VIP up on no node is never fine, even when the plan said so: red, as
 * status shows it. When a node could not be read, "nobody" is only "none of the nodes that answered".
 */
function describeFinalHolders(vip: string, expected: readonly string[], final: readonly string[], unread: readonly string[]): string {
  const asPlanned = samePlacement(expected, final);
  const planned = asPlanned ? '' : ` (planned: ${formatHolders(expected)})`;
  if (final.length === 0 && unread.length > 0) {
    return `:grey_question: VIP \`${vip}\` on none of the nodes that answered (${unread.join(', ')} could not be read)${planned}`;
  }
  if (final.length === 0) return `:red_circle: VIP \`${vip}\` on *nobody*: it is up on no node${asPlanned ? ' (as planned)' : planned}`;
  if (final.length > 1) return `:rotating_light: VIP \`${vip}\` on *${formatHolders(final)}* at once${planned}`;
  return `${asPlanned ? ':white_check_mark:' : ':warning:'} VIP \`${vip}\` on *${formatHolders(final)}*${planned}`;
}

/** How a command really ended: its exit code, the signal that killed it, the timeout that stopped it, or why it never ran. */
export function describeCommandEnd(c: CommandRecord): string {
  if (c.exitCode !== null) return `exit ${c.exitCode}`;
  if (c.signal) return `killed by ${c.signal}`;
  const error = c.error ?? '';
  switch (c.errorCode) {
    case 'ssh_command_timeout': {
      // GNU timeout exits 124 after its SIGTERM, 137 when it had to SIGKILL (--kill-after).
      const exit = /host-side timeout, exit (\d+)/.exec(error)?.[1];
      if (exit === '137') return 'timed out: killed by the host-side timeout (SIGKILL after --kill-after, exit 137)';
      if (exit) return `timed out: stopped by the host-side timeout (exit ${exit})`;
      return 'timed out: no answer within the bot\'s own limit (connection dropped)';
    }
    case 'ssh_connection_lost':
      return 'connection lost while it ran: outcome unknown';
    case 'ssh_aborted':
      return 'cancelled (the job was stopped)';
    case undefined:
      return error ? `error: ${error}` : 'ended without an exit code';
    default:
      return neverRan(c.errorCode) ? `not run: ${error}` : `error: ${error}`;
  }
}

function summariseRequest(r: ChangeRequest, state: RequestState): string {
  const who = state === 'rejected' && r.rejectedBy ? ` by <@${r.rejectedBy}>` : r.approvedBy && state !== 'pending' && state !== 'expired' ? ` (approved by <@${r.approvedBy}>)` : '';
  return `${describeAction(r)} on ${r.cluster}: ${STATE_LOOK[state].phrase}${who} · request ${r.id} from <@${r.requestedBy}>`;
}

/** Pairs two placements by VIP name, in the order the VIPs first appear. */
function pairPlacements(a: VipPlacement, b: VipPlacement): Array<[string, string[], string[]]> {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return names.map((n) => [n, a[n] ?? [], b[n] ?? []]);
}

function samePlacement(a: readonly string[], b: readonly string[]): boolean {
  const sortedB = [...b].sort();
  return a.length === b.length && [...a].sort().every((x, i) => x === sortedB[i]);
}

function formatHolders(holders: readonly string[]): string {
  return holders.length ? holders.join(' + ') : 'nobody';
}

/** "850 ms", "3.2 s", "2 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
}

/**
 * A titled code block that fits one section. No language tag after the fence: Slack does not
 * highlight code and would show the tag as the block's first line. Lines are escaped, a stray fence in
 * the content is broken with zero-width spaces (it would end the block early), and whole lines are
 * dropped from the end with a note when the text would exceed Slack's 3000 characters.
 */
function renderCodeSection(title: string, rawLines: readonly string[], keptWhere: string): string {
  const lines = rawLines.map(escapeHost);
  const note = (cut: number): string => `\n_…${cut} more line${cut === 1 ? '' : 's'} not shown; ${keptWhere}._`;
  // Room for the title, the fences and the longest possible note.
  const budget = SLACK_LIMITS.sectionText - title.length - 8 - note(rawLines.length).length;
  const { kept, cut } = fitLines(lines, budget);
  const body = kept.length ? kept.join('\n') : ' ';
  return `${title}\n\`\`\`${body}\`\`\`${cut ? note(cut) : ''}`;
}

/** Keeps whole lines from the start while they fit `budget` characters (joined by newlines). */
function fitLines(lines: readonly string[], budget: number): { kept: string[]; cut: number } {
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const cost = line.length + (kept.length ? 1 : 0);
    if (used + cost > budget) {
      // A single huge first line is clipped rather than dropped, so the reader sees something.
      if (kept.length === 0) kept.push(clip(line, budget));
      break;
    }
    kept.push(line);
    used += cost;
  }
  return { kept, cut: lines.length - kept.length };
}

/** Clips free text to a limit, preferring a line boundary so mrkdwn and entities stay whole. */
function clipLines(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const { kept, cut } = fitLines(text.split('\n'), limit - 40);
  return `${kept.join('\n')}\n…(${cut} more lines cut)`;
}

function clip(text: string, limit: number): string {
  if (text.length <= limit) return text;
  // Do not leave half an `&amp;` entity at the end.
  return `${text.slice(0, limit - 1).replace(/&[a-z]{0,4}$/, '')}…`;
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clipLines(text, SLACK_LIMITS.sectionText) } };
}

function fieldsSection(fields: readonly string[]): SectionBlock {
  return { type: 'section', fields: fields.slice(0, SLACK_LIMITS.fields).map((f) => ({ type: 'mrkdwn', text: clip(f, SLACK_LIMITS.sectionField) })) };
}

/** Keeps a message within Slack's 50 blocks, saying so in the last one. */
function capBlocks(blocks: KnownBlock[]): KnownBlock[] {
  if (blocks.length <= SLACK_LIMITS.blocks) return blocks;
  const kept = blocks.slice(0, SLACK_LIMITS.blocks - 1);
  kept.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `…${blocks.length - kept.length} more blocks not shown.` }] });
  return kept;
}

function suggestAlternative(plan: Plan): string {
  const status = `\`/vip status ${plan.cluster}\``;
  if (plan.noop) return `nothing needs doing; ${status} shows who holds each VIP.`;
  const blockers = plan.checks.filter((c) => !c.ok && c.severity === 'blocker');
  switch (plan.action) {
    case 'promote': {
      const holders = plan.vip ? (plan.before[plan.vip] ?? []).filter((h) => h !== plan.node) : [];
      const demote = holders.length ? `, or \`/vip demote ${holders[0]}\` to stop keepalived on the node that holds it` : '';
      return `fix what the checks report on ${plan.node} (a failing track script means ${plan.node} would not take the VIP) and request again${demote}. ${status} shows the current state.`;
    }
    case 'demote':
      return blockers.length
        ? `make a peer eligible for the VIPs ${plan.node} holds (keepalived running, track script passing) and request again, or add \`--force\` if the VIP may go nowhere. ${status} shows the current state.`
        : `${status} shows the current state; request again once it changes.`;
    case 'start':
      return `${status} shows the current state; request again once the checks above pass.`;
  }
}

/**
 * Block Kit for `vip_status`: per cluster, warnings first (what needs a human), then who holds each VIP,
 * then each node's keepalived and instances. Slack caps a message at 50 blocks and a section at 3000
 * characters, so each cluster uses at most four blocks and long lists are cut with a note.
 */
import type { KnownBlock } from '@slack/types';
import type { ClusterStatus, InstanceStatus, NodeStatus, StatusWarning, VipStatus } from '../model.ts';
import { escapeHostText as esc } from './escape.ts';

const MAX_SECTION = 2900;
const MAX_BLOCKS = 50;

const WARNING_ICON: Record<StatusWarning['code'], string> = {
  split_brain: ':rotating_light:',
  vip_missing: ':red_circle:',
  node_unreachable: ':electric_plug:',
  keepalived_down: ':octagonal_sign:',
  preempt_hazard: ':warning:',
  config_mismatch: ':jigsaw:',
  check_failed: ':grey_question:',
  priority_tie: ':balance_scale:',
};

export interface RenderedMessage {
  text: string;
  blocks: KnownBlock[];
}

export function renderStatusMessage(status: VipStatus, title = 'VIP status'): RenderedMessage {
  const blocks: KnownBlock[] = [];
  const totalWarnings = status.clusters.reduce((n, c) => n + c.warnings.length, 0);
  blocks.push({ type: 'header', text: { type: 'plain_text', text: `${title}${totalWarnings ? ` — ${totalWarnings} warning${totalWarnings > 1 ? 's' : ''}` : ' — all clear'}` } });
  for (const cluster of status.clusters) {
    const clusterBlocks = renderCluster(cluster);
    if (blocks.length + clusterBlocks.length + 1 > MAX_BLOCKS) {
      blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `…and more clusters; use \`/vip status <cluster>\` to see one.` }] });
      break;
    }
    blocks.push(...clusterBlocks);
  }
  if (status.collectedAt && blocks.length < MAX_BLOCKS) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Collected ${status.collectedAt} · \`/vip help\` for commands` }] });
  }
  return { text: summariseStatus(status), blocks };
}

/** One line per cluster, for notifications and the message's fallback text. */
export function summariseStatus(status: VipStatus): string {
  return status.clusters
    .map((c) => {
      const unread = c.nodes.some((n) => !n.reachable);
      const vips = c.vips.map((v) => `${esc(v.name)} on ${v.holders.length ? v.holders.map(esc).join('+') : unread ? '?' : 'nobody'}`).join(', ');
      const warnings = c.warnings.length ? ` · ${c.warnings.length} warning(s): ${[...new Set(c.warnings.map((w) => w.code))].join(', ')}` : '';
      return `${esc(c.name)}: ${vips}${warnings}`;
    })
    .join('\n');
}

function renderCluster(cluster: ClusterStatus): KnownBlock[] {
  const out: KnownBlock[] = [{ type: 'divider' }];
  const head = `*${esc(cluster.name)}*  ${cluster.warnings.length ? `${cluster.warnings.length} warning(s)` : ':white_check_mark: no warnings'}`;
  out.push(section([head, ...cluster.warnings.map(renderWarning)].join('\n')));

  // No holder among the nodes read says nothing about a node that could not be read: unknown, not "nobody".
  const unread = cluster.nodes.filter((n) => !n.reachable).map((n) => `*${esc(n.name)}*`);
  const read = cluster.nodes.filter((n) => n.reachable).map((n) => `*${esc(n.name)}*`);
  const vipLines = cluster.vips.map((v) => {
    const unknown = v.holders.length === 0 && unread.length > 0;
    const icon = v.holders.length === 1 ? ':large_green_circle:' : unknown ? ':grey_question:' : v.holders.length === 0 ? ':red_circle:' : ':rotating_light:';
    const where = v.holders.length
      ? v.holders.map((h) => `*${esc(h)}*`).join(' + ')
      : unknown
        ? `*unknown*: ${read.length ? `not on ${read.join(', ')}; ` : ''}${unread.join(', ')} could not be read`
        : '*nobody*';
    return `${icon} ${esc(v.name)} \`${esc(v.address)}\` (${esc(v.instance)}) → ${where}`;
  });
  out.push(section(vipLines.join('\n')));
  out.push(section(cluster.nodes.map(renderNode).join('\n')));
  return out;
}

/**
 * One warning: its message escaped, with the fix commands it names shown as commands where it names
 * them, and a `fix:` line only for those it does not (each fix is said once).
 */
function renderWarning(w: StatusWarning): string {
  const fixes = w.fixes ?? [];
  const unnamed = fixes.filter((f) => findCommand(w.message, f, 0) < 0);
  const fixLine = unnamed.length ? `\n      fix: ${unnamed.map((f) => `\`${esc(f)}\``).join('  or  ')}` : '';
  return `${WARNING_ICON[w.code]} \`${w.code}\` ${markCommands(w.message, fixes)}${fixLine}`;
}

/** Escapes `text` piece by piece, each occurrence of a command in `commands` becoming inline code. */
function markCommands(text: string, commands: readonly string[]): string {
  let out = '';
  let from = 0;
  for (;;) {
    const next = commands
      .map((command) => ({ command, at: findCommand(text, command, from) }))
      .filter((c) => c.at >= 0)
      .sort((a, b) => a.at - b.at || b.command.length - a.command.length)[0];
    if (!next) return out + esc(text.slice(from));
    out += `${esc(text.slice(from, next.at))}\`${esc(next.command)}\``;
    from = next.at + next.command.length;
  }
}

/** Where `command` next occurs in `text` as whole words (`/vip demote node1` is not in `… node10`), or -1. */
function findCommand(text: string, command: string, from: number): number {
  if (!command) return -1;
  for (let at = text.indexOf(command, from); at >= 0; at = text.indexOf(command, at + 1)) {
    if (!/[A-Za-z0-9_-]/.test(text[at + command.length] ?? '')) return at;
  }
  return -1;
}

function renderNode(node: NodeStatus): string {
  if (!node.reachable) return `:electric_plug: *${esc(node.name)}* ${esc(node.host)} — unreachable${node.error ? `: ${esc(node.error)}` : ''}`;
  const svc = node.keepalived === 'active' ? 'keepalived active' : node.keepalived === 'inactive' ? ':octagonal_sign: keepalived *stopped*' : 'keepalived ?';
  const instances = node.instances.map(renderInstance).join(' · ');
  return `*${esc(node.name)}* ${esc(node.host)} — ${svc}\n      ${instances}`;
}

function renderInstance(i: InstanceStatus): string {
  const check = i.checksPass === null ? 'check ?' : i.checksPass ? 'check ✓' : 'check ✗';
  const prio = i.priority === null ? '?' : String(i.priority);
  const effective = i.effectivePriority !== undefined && i.effectivePriority !== i.priority ? ` (eff ${i.effectivePriority})` : '';
  const holds = i.holdsVip ? ' *holds VIP*' : '';
  return `${esc(i.name)} ${esc(i.state)}/${prio}${effective} ${check}${holds}`;
}

function section(text: string): KnownBlock {
  const clipped = text.length > MAX_SECTION ? `${text.slice(0, MAX_SECTION)}\n…(cut)` : text;
  return { type: 'section', text: { type: 'mrkdwn', text: clipped } };
}

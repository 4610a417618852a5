/**
 * Block Kit for `vip_status`: per cluster, warnings first (what needs a human), then who holds each VIP,
 * then each node's keepalived and instances. Slack caps a message at 50 blocks and a section at 3000
 * characters, so each cluster uses at most four blocks and long lists are cut with a note.
 */
import type { KnownBlock } from '@slack/types';
import type { ClusterStatus, InstanceStatus, NodeStatus, StatusWarning, VipStatus } from '../model.ts';

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
      const vips = c.vips.map((v) => `${v.name} on ${v.holders.length ? v.holders.join('+') : unread ? '?' : 'nobody'}`).join(', ');
      const warnings = c.warnings.length ? ` · ${c.warnings.length} warning(s): ${[...new Set(c.warnings.map((w) => w.code))].join(', ')}` : '';
      return `${c.name}: ${vips}${warnings}`;
    })
    .join('\n');
}

function renderCluster(cluster: ClusterStatus): KnownBlock[] {
  const out: KnownBlock[] = [{ type: 'divider' }];
  const head = `*${cluster.name}*  ${cluster.warnings.length ? `${cluster.warnings.length} warning(s)` : ':white_check_mark: no warnings'}`;
  const warningLines = cluster.warnings.map((w) => {
    const fixes = w.fixes?.length ? `\n      fix: ${w.fixes.map((f) => `\`${f}\``).join('  or  ')}` : '';
    return `${WARNING_ICON[w.code]} \`${w.code}\` ${w.message}${fixes}`;
  });
  out.push(section([head, ...warningLines].join('\n')));

  // No holder among the nodes read says nothing about a node that could not be read: unknown, not "nobody".
  const unread = cluster.nodes.filter((n) => !n.reachable).map((n) => `*${n.name}*`);
  const read = cluster.nodes.filter((n) => n.reachable).map((n) => `*${n.name}*`);
  const vipLines = cluster.vips.map((v) => {
    const unknown = v.holders.length === 0 && unread.length > 0;
    const icon = v.holders.length === 1 ? ':large_green_circle:' : unknown ? ':grey_question:' : v.holders.length === 0 ? ':red_circle:' : ':rotating_light:';
    const where = v.holders.length
      ? v.holders.map((h) => `*${h}*`).join(' + ')
      : unknown
        ? `*unknown*: ${read.length ? `not on ${read.join(', ')}; ` : ''}${unread.join(', ')} could not be read`
        : '*nobody*';
    return `${icon} ${v.name} \`${v.address}\` (${v.instance}) → ${where}`;
  });
  out.push(section(vipLines.join('\n')));
  out.push(section(cluster.nodes.map(renderNode).join('\n')));
  return out;
}

function renderNode(node: NodeStatus): string {
  if (!node.reachable) return `:electric_plug: *${node.name}* ${node.host} — unreachable${node.error ? `: ${node.error}` : ''}`;
  const svc = node.keepalived === 'active' ? 'keepalived active' : node.keepalived === 'inactive' ? ':octagonal_sign: keepalived *stopped*' : 'keepalived ?';
  const instances = node.instances.map(renderInstance).join(' · ');
  return `*${node.name}* ${node.host} — ${svc}\n      ${instances}`;
}

function renderInstance(i: InstanceStatus): string {
  const check = i.checksPass === null ? 'check ?' : i.checksPass ? 'check ✓' : 'check ✗';
  const prio = i.priority === null ? '?' : String(i.priority);
  const effective = i.effectivePriority !== undefined && i.effectivePriority !== i.priority ? ` (eff ${i.effectivePriority})` : '';
  const holds = i.holdsVip ? ' *holds VIP*' : '';
  return `${i.name} ${i.state}/${prio}${effective} ${check}${holds}`;
}

function section(text: string): KnownBlock {
  const clipped = text.length > MAX_SECTION ? `${text.slice(0, MAX_SECTION)}\n…(cut)` : text;
  return { type: 'section', text: { type: 'mrkdwn', text: clipped } };
}

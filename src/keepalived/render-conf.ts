/**
 * Renders one node's keepalived.conf from the inventory (`vipbot render`, SPEC §9): the team's notes
 * complain that every host's file is edited by hand whenever an address changes. Each node gets its
 * own `state`, `priority`, `unicast_src_ip` and `unicast_peer`; the rest is shared by the pair.
 *
 * Priorities follow the notes: the VIP's MASTER node 100, the others BACKUP 90 (then 80, 70… in file
 * order for a third node). Pure: values in, text out.
 */

/** How the file is laid out: the lab's (global_defs with script security) or the team's own (none). */
export interface RenderSettings {
  interface: string;
  advertInt: number;
  checks: { interval: number; rise: number; fall: number };
  /** `user <scriptUser>` in every vrrp_script; null = keepalived's default script user. */
  scriptUser: string | null;
  /** `authentication { auth_type PASS; auth_pass … }` in every instance; null = none. */
  authPass: string | null;
  /** A global_defs block (router_id, enable_script_security, script_user root); false = none, as the team's files. */
  globalDefs: boolean;
  /** Spaces per indentation level (the team's files use 6). */
  indent: number;
}

export interface RenderNode {
  name: string;
  /** The address keepalived talks VRRP from: unicast_src_ip here, unicast_peer on the partner. */
  host: string;
}

export interface RenderVip {
  name: string;
  instance: string;
  /** Address with prefix length (`198.51.100.100/24`); without one, /32. */
  address: string;
  routerId: number;
  /** Absolute path of the track script (exit 0 = this node should hold the VIP). */
  track: string;
  /** The node that is MASTER for this VIP. */
  master: string;
}

export interface RenderInput {
  cluster: string;
  node: RenderNode;
  /** Every node of the cluster, in config order (the node itself included). */
  nodes: readonly RenderNode[];
  vips: readonly RenderVip[];
  settings: RenderSettings;
}

export const MASTER_PRIORITY = 100;
export const BACKUP_PRIORITY = 90;

/** The vrrp_script name for a VIP's track script: `chk_<vip>` (chk_primary, chk_standby as in the notes). */
export function trackScriptName(vip: Pick<RenderVip, 'name'>): string {
  return `chk_${vip.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The priority a node gets for a VIP: MASTER 100; the others 90, 80, … in config order. */
export function renderedPriority(vip: RenderVip, nodes: readonly RenderNode[], node: string): number {
  if (node === vip.master) return MASTER_PRIORITY;
  const backups = nodes.filter((n) => n.name !== vip.master);
  return BACKUP_PRIORITY - 10 * backups.findIndex((n) => n.name === node);
}

export function renderKeepalivedConfig(input: RenderInput): string {
  const { node, nodes, vips, settings } = input;
  const i1 = ' '.repeat(settings.indent);
  const i2 = i1.repeat(2);
  const peers = nodes.filter((n) => n.name !== node.name);
  const lines: string[] = [
    `! keepalived.conf for ${node.name} (${node.host}), cluster ${input.cluster}`,
    '! Written by `vipbot render` from the inventory: change vipbot.yaml and render again rather than editing here.',
    '',
  ];
  if (settings.globalDefs) {
    lines.push('global_defs {', `${i1}router_id ${node.name}`, `${i1}enable_script_security`, `${i1}script_user root`, '}', '');
  }
  for (const vip of vips) {
    lines.push(`vrrp_script ${trackScriptName(vip)} {`, `${i1}script "${vip.track}"`);
    if (settings.scriptUser) lines.push(`${i1}user ${settings.scriptUser}`);
    lines.push(`${i1}interval ${settings.checks.interval}`, `${i1}rise ${settings.checks.rise}`, `${i1}fall ${settings.checks.fall}`, '}', '');
  }
  for (const vip of vips) {
    const master = vip.master === node.name;
    lines.push(
      `vrrp_instance ${vip.instance} {`,
      `${i1}state ${master ? 'MASTER' : 'BACKUP'}`,
      `${i1}interface ${settings.interface}`,
      `${i1}virtual_router_id ${vip.routerId}`,
      `${i1}priority ${renderedPriority(vip, nodes, node.name)}`,
      `${i1}advert_int ${settings.advertInt}`,
    );
    if (settings.authPass !== null) {
      lines.push(`${i1}authentication {`, `${i2}auth_type PASS`, `${i2}auth_pass ${settings.authPass}`, `${i1}}`);
    }
    // A lone node has no partner: keepalived then falls back to multicast adverts.
    if (peers.length > 0) {
      lines.push(`${i1}unicast_src_ip ${node.host}`, `${i1}unicast_peer {`, ...peers.map((p) => `${i2}${p.host}`), `${i1}}`);
    }
    lines.push(
      `${i1}virtual_ipaddress {`,
      `${i2}${withPrefix(vip.address)} dev ${settings.interface}`,
      `${i1}}`,
      `${i1}track_script {`,
      `${i2}${trackScriptName(vip)}`,
      `${i1}}`,
      '}',
      '',
    );
  }
  return lines.join('\n');
}

function withPrefix(address: string): string {
  if (address.includes('/')) return address;
  return `${address}/${address.includes(':') ? 128 : 32}`;
}

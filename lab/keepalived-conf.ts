// Renders each lab host's keepalived.conf in the DBA team's style (6-space indentation, one file per
// host with its own state/priority/unicast_src_ip/unicast_peer), so the bot parses what production has.
import type { Topology, TopologyHost } from './topology.ts';

export const ROLE_FILE = '/etc/keepalived/lab-role';
export const PRIMARY_CHECK = '/etc/keepalived/primary_check.sh';
export const STANDBY_CHECK = '/etc/keepalived/standby_check.sh';

const I1 = ' '.repeat(6);
const I2 = I1.repeat(2);

export function renderKeepalivedConf(host: TopologyHost, topology: Topology): string {
  const cluster = topology.clusters.find((c) => c.name === host.cluster);
  if (!cluster) throw new Error(`no cluster ${host.cluster} for ${host.name}`);
  const odd = host.index % 2 === 1;
  const lines: string[] = [
    `! Configuration File for keepalived: lab host ${host.name} (${host.ip}), cluster ${cluster.name}`,
    '',
    'global_defs {',
    `${I1}router_id ${host.name}`,
    // Scripts run as `oracle`; script security makes keepalived check that oracle cannot rewrite them.
    `${I1}enable_script_security`,
    `${I1}script_user root`,
    // The lab has no real ARP neighbours to refresh; a burst of delayed GARPs only adds noise.
    `${I1}vrrp_garp_master_delay 1`,
    `${I1}vrrp_garp_master_repeat 1`,
    '}',
    '',
  ];
  for (const [name, script] of [['chk_primary', PRIMARY_CHECK], ['chk_standby', STANDBY_CHECK]] as const) {
    lines.push(
      `vrrp_script ${name} {`,
      `${I1}script "${script}"`,
      `${I1}user oracle`,
      `${I1}interval 1`,
      `${I1}fall 1`,
      `${I1}rise 1`,
      '}',
      '',
    );
  }
  for (const vip of cluster.vips) {
    // VI_PRIMARY prefers the odd host, VI_STANDBY the even one: the pair mirrors each other.
    const master = vip.instance === 'VI_PRIMARY' ? odd : !odd;
    const check = vip.instance === 'VI_PRIMARY' ? 'chk_primary' : 'chk_standby';
    lines.push(
      `vrrp_instance ${vip.instance} {`,
      `${I1}state ${master ? 'MASTER' : 'BACKUP'}`,
      `${I1}interface eth0`,
      `${I1}virtual_router_id ${vip.vrid}`,
      `${I1}priority ${master ? 100 : 90}`,
      `${I1}advert_int 1`,
      `${I1}authentication {`,
      `${I2}auth_type PASS`,
      `${I2}auth_pass ${cluster.authPass}`,
      `${I1}}`,
    );
    // A lone host (odd host count) has no partner: keepalived then falls back to multicast adverts.
    if (host.partnerIp) {
      lines.push(`${I1}unicast_src_ip ${host.ip}`, `${I1}unicast_peer {`, `${I2}${host.partnerIp}`, `${I1}}`);
    }
    lines.push(
      `${I1}virtual_ipaddress {`,
      `${I2}${vip.address}/24 dev eth0`,
      `${I1}}`,
      `${I1}track_script {`,
      `${I2}${check}`,
      `${I1}}`,
      '}',
      '',
    );
  }
  return lines.join('\n');
}

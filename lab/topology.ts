// Pure description of the lab: which hosts, clusters, VIPs and VRRP ids exist for N hosts.
// No I/O here, so the numbering rules live in one place.

/** The /24 every lab address sits on (RFC 5737 documentation range: never routed anywhere real). */
export const LAB_NET = '198.51.100';
export const BRIDGE = 'vipbr0';
export const BRIDGE_IP = `${LAB_NET}.254`;
export const NETNS_PREFIX = 'vipbot-';
export const VETH_PREFIX = 'vb-';
/**
 * Host i is 198.51.100.i up to 90; the VIPs take .100-.199 (two per cluster), so hosts 91-100 sit above
 * them at .201-.210 (the bench's 100-host row). Addresses of labs up to 90 hosts are unchanged.
 */
export const MAX_HOSTS = 100;

export function hostIp(i: number): string {
  return `${LAB_NET}.${i <= 90 ? i : i + 110}`;
}

export interface TopologyVip { name: 'primary' | 'standby'; instance: 'VI_PRIMARY' | 'VI_STANDBY'; address: string; vrid: number }
export interface TopologyHost {
  name: string;
  index: number;
  ip: string;
  cluster: string;
  netns: string;
  /** Bridge-side end of the host's veth pair (in the root namespace). */
  veth: string;
  partner?: string;
  partnerIp?: string;
  /** Odd hosts start as PRIMARY database and keepalived MASTER of VI_PRIMARY. */
  initialRole: 'PRIMARY' | 'PHYSICAL STANDBY';
}
export interface TopologyCluster { name: string; index: number; nodes: string[]; vips: TopologyVip[]; authPass: string }
export interface Topology { hosts: TopologyHost[]; clusters: TopologyCluster[] }

export function clusterName(k: number): string {
  return k === 1 ? 'orcl' : `orcl${k}`;
}

export function buildTopology(count: number): Topology {
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) {
    throw new Error(`lab host count must be an integer from 1 to ${MAX_HOSTS}, got ${count}`);
  }
  const hosts: TopologyHost[] = [];
  const clusters: TopologyCluster[] = [];
  for (let i = 1; i <= count; i++) {
    const k = Math.ceil(i / 2);
    const partnerIndex = i % 2 === 1 ? i + 1 : i - 1;
    const hasPartner = partnerIndex <= count;
    hosts.push({
      name: `node${i}`,
      index: i,
      ip: hostIp(i),
      cluster: clusterName(k),
      netns: `${NETNS_PREFIX}node${i}`,
      veth: `${VETH_PREFIX}node${i}`,
      ...(hasPartner ? { partner: `node${partnerIndex}`, partnerIp: hostIp(partnerIndex) } : {}),
      initialRole: i % 2 === 1 ? 'PRIMARY' : 'PHYSICAL STANDBY',
    });
    if (i % 2 === 1) {
      const base = 2 * (k - 1);
      clusters.push({
        name: clusterName(k),
        index: k,
        nodes: hasPartner ? [`node${i}`, `node${i + 1}`] : [`node${i}`],
        vips: [
          { name: 'primary', instance: 'VI_PRIMARY', address: `${LAB_NET}.${100 + base}`, vrid: 51 + base },
          { name: 'standby', instance: 'VI_STANDBY', address: `${LAB_NET}.${101 + base}`, vrid: 52 + base },
        ],
        // VRRPv2 PASS auth keeps only 8 characters; longer values are silently truncated by keepalived.
        authPass: `orcl${String(k).padStart(4, '0')}`,
      });
    }
  }
  return { hosts, clusters };
}

/** Which host should hold each VIP right after `up` (odd node: primary, even node: standby). */
export function expectedInitialHolders(topology: Topology): Record<string, string> {
  const out: Record<string, string> = {};
  for (const cluster of topology.clusters) {
    const [first, second] = cluster.nodes;
    const [primary, standby] = cluster.vips;
    if (primary && first) out[primary.address] = first;
    if (standby) out[standby.address] = second ?? '';
  }
  return out;
}

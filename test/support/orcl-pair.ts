/**
 * The pair every table test starts from: cluster `orcl` (node1, node2) with a primary and a standby
 * VIP, as in the DBA team's notes, plus readers for the captured keepalived/host fixtures.
 */
import { readFileSync } from 'node:fs';
import type { ClusterConfig } from '../../src/config/config.ts';

export const ORCL_PAIR: ClusterConfig = {
  name: 'orcl',
  vips: [
    { name: 'primary', instance: 'VI_PRIMARY', address: '198.51.100.100' },
    { name: 'standby', instance: 'VI_STANDBY', address: '198.51.100.101' },
  ],
  nodes: [
    { name: 'node1', host: '198.51.100.1' },
    { name: 'node2', host: '198.51.100.2' },
  ],
};

/** A file under test/fixtures/keepalived/. */
export function keepalivedFixture(name: string): string {
  return readFileSync(new URL(`../fixtures/keepalived/${name}`, import.meta.url), 'utf8');
}

/** `ip -o addr show` of a host on the lab's network holding the given VIPs (as /24 secondaries). */
export function ipAddrOutput(host: string, vips: readonly string[]): string {
  return [
    '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
    `2: eth0    inet ${host}/24 brd 198.51.100.255 scope global eth0\\       valid_lft forever preferred_lft forever`,
    ...vips.map((vip, i) => `2: eth0    inet ${vip}/24 scope global secondary eth0:${i + 1}\\       valid_lft forever preferred_lft forever`),
  ].join('\n') + '\n';
}

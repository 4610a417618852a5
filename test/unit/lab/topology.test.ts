import { describe, expect, it } from 'vitest';
import { BRIDGE_IP, buildTopology, expectedInitialHolders, MAX_HOSTS } from '../../../lab/topology.ts';

describe('lab topology', () => {
  it('fits 100 hosts (50 clusters) on the /24 with every address and VRRP id distinct', () => {
    const { hosts, clusters } = buildTopology(100);
    const vips = clusters.flatMap((c) => c.vips);
    const addresses = [...hosts.map((h) => h.ip), ...vips.map((v) => v.address), BRIDGE_IP];
    expect({ max: MAX_HOSTS, hosts: hosts.length, clusters: clusters.length, distinct: new Set(addresses).size }).toEqual({ max: 100, hosts: 100, clusters: 50, distinct: 201 });
    expect(addresses.every((a) => /^198\.51\.100\.(\d+)$/.test(a) && Number(a.split('.')[3]) >= 1 && Number(a.split('.')[3]) <= 254)).toBe(true);
    expect(new Set(vips.map((v) => v.vrid)).size).toBe(100);
    expect(Math.max(...vips.map((v) => v.vrid))).toBeLessThanOrEqual(255);
    expect(hosts.slice(89, 92).map((h) => ({ name: h.name, ip: h.ip, partnerIp: h.partnerIp }))).toEqual([
      { name: 'node90', ip: '198.51.100.90', partnerIp: '198.51.100.89' },
      { name: 'node91', ip: '198.51.100.201', partnerIp: '198.51.100.202' },
      { name: 'node92', ip: '198.51.100.202', partnerIp: '198.51.100.201' },
    ]);
    expect(Object.keys(expectedInitialHolders(buildTopology(100))).length).toBe(100);
  });

  it('keeps the addresses of smaller labs as they were', () => {
    const { hosts, clusters } = buildTopology(4);
    expect(hosts.map((h) => h.ip)).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']);
    expect(clusters.flatMap((c) => c.vips.map((v) => v.address))).toEqual(['198.51.100.100', '198.51.100.101', '198.51.100.102', '198.51.100.103']);
  });

  it('refuses more hosts than the /24 holds', () => {
    expect(() => buildTopology(101)).toThrow('from 1 to 100');
  });
});

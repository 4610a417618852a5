import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../../src/config/config.ts';

const vips = [
  { name: 'primary', instance: 'VI_PRIMARY', address: '198.51.100.100/24', routerId: 51, track: '/etc/keepalived/primary_check.sh', master: 'node1' },
  { name: 'standby', instance: 'VI_STANDBY', address: '198.51.100.101/24', routerId: 52, track: '/etc/keepalived/standby_check.sh', master: 'node2' },
];
const nodes = [{ name: 'node1', host: '198.51.100.1' }, { name: 'node2', host: '198.51.100.2' }];
const render = { interface: 'eth0', advertInt: 1, checks: { interval: 5, rise: 2, fall: 2 }, scriptUser: 'oracle', authPass: null };

function problems(raw: unknown): string[] {
  try {
    validateConfig(raw);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('config: render block and VIP prefixes (vipbot render)', () => {
  it('takes the SPEC example: the address keeps its IP for comparisons and the prefix for render', () => {
    const config = validateConfig({ clusters: [{ name: 'orcl', render, vips, nodes }] });
    expect(config.clusters[0]!.vips[0]).toEqual({ ...vips[0], address: '198.51.100.100', prefixLength: 24 });
    expect(config.clusters[0]!.render).toEqual({ ...render, globalDefs: true, indent: 6 });
  });

  it('a VIP without a prefix stays as it was', () => {
    const config = validateConfig({ clusters: [{ name: 'orcl', vips: [{ name: 'p', instance: 'VI_P', address: '198.51.100.100' }], nodes }] });
    expect(config.clusters[0]!.vips[0]).toEqual({ name: 'p', instance: 'VI_P', address: '198.51.100.100' });
  });

  it.each([
    ['a VIP without its render fields', { clusters: [{ name: 'orcl', render, vips: [{ name: 'p', instance: 'VI_P', address: '198.51.100.100' }], nodes }] },
      ['clusters[0].vips[0].routerId: required when the cluster has a render block (see `vipbot render` in the README)', 'clusters[0].vips[0].track: required when the cluster has a render block (see `vipbot render` in the README)', 'clusters[0].vips[0].master: required when the cluster has a render block (see `vipbot render` in the README)']],
    ['a MASTER that is not a node of the cluster', { clusters: [{ name: 'orcl', render, vips: [{ ...vips[0], master: 'node9' }], nodes }] }, ['clusters[0].vips[0].master: "node9" is not a node of this cluster; use one of: node1, node2']],
    ['two VIPs on one router id', { clusters: [{ name: 'orcl', render, vips: [vips[0], { ...vips[1], routerId: 51 }], nodes }] }, ['clusters[0].vips[1].routerId: virtual_router_id 51 is already used by vips[0]; each VIP needs its own']],
    ['a prefix out of range', { clusters: [{ name: 'orcl', vips: [{ ...vips[0], address: '198.51.100.100/33' }], nodes }] }, ['clusters[0].vips[0].address: prefix length must be 0..32']],
    ['an auth_pass keepalived would cut', { clusters: [{ name: 'orcl', render: { ...render, authPass: 'much-too-long' }, vips, nodes }] }, ['clusters[0].render.authPass: use 1 to 8 letters, digits or _ . + - (keepalived ignores the rest)']],
    ['a track script path with ..', { clusters: [{ name: 'orcl', render, vips: [{ ...vips[0], track: '/etc/keepalived/../x.sh' }], nodes }] }, ['clusters[0].vips[0].track: must not contain . or .. segments']],
  ])('refuses %s, naming the YAML path', (_what, raw, expected) => {
    expect(problems(raw)).toEqual(expected);
  });
});

describe('config: status watch', () => {
  it('is off without a status key, every 1m by default with one', () => {
    expect(validateConfig({ clusters: [{ name: 'orcl', vips, nodes }] }).status).toBeUndefined();
    expect(validateConfig({ status: { channel: 'C0VIPOPS' }, clusters: [{ name: 'orcl', vips, nodes }] }).status).toEqual({ every: 60_000, channel: 'C0VIPOPS' });
  });

  it.each([
    [{ every: '5s', channel: 'C0VIPOPS' }, 'status.every: at least 10s: each round reads every node'],
    [{ every: '2h', channel: 'C0VIPOPS' }, 'status.every: at most 1h'],
    [{ every: '1m' }, 'status.channel: Invalid input: expected string, received undefined'],
  ])('refuses %j', (status, expected) => {
    expect(problems({ status, clusters: [{ name: 'orcl', vips, nodes }] })).toEqual([expected]);
  });
});

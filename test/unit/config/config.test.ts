import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, findNode, parseConfigText, validateConfig } from '../../../src/config/config.ts';
import { Duration, durationAtMost, formatDuration, MAX_TIMER_MS, parseDuration } from '../../../src/config/duration.ts';

const VALID = `
access:
  operators: [U0ONCALL1, S0ONCALL]
  approvers: [U0LEAD1]
ssh:
  user: vipbot
  sudo: true
  connectTimeout: 3s
keepalived:
  apply: restart
clusters:
  - name: orcl
    ssh: { port: 2222 }
    vips:
      - { name: primary, instance: VI_PRIMARY, address: 198.51.100.100 }
      - { name: standby, instance: VI_STANDBY, address: 198.51.100.101 }
    nodes:
      - { name: node1, host: 198.51.100.1 }
      - { name: node2, host: 198.51.100.2, ssh: { user: root }, keepalived: { configPath: /etc/keepalived/ka.conf } }
`;

function problemsOf(text: string): Array<{ path: string; message: string }> {
  return refusedWith(() => parseConfigText(text));
}

/** The problems `load` throws; fails the test when it accepts the config. */
function refusedWith(load: () => unknown): Array<{ path: string; message: string }> {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the config to be refused');
}

describe('config', () => {
  it('applies defaults and per-cluster and per-node overrides', () => {
    const config = parseConfigText(VALID);
    expect(config.access.approvalTimeout).toBe(15 * 60_000);
    expect(config.access.approveReactions).toEqual(['white_check_mark', 'heavy_check_mark', '+1']);
    expect(config.keepalived.convergeTimeout).toBe(20_000);
    const node1 = findNode(config, 'node1')!;
    expect(node1.ssh).toMatchObject({ user: 'vipbot', port: 2222, sudo: true, connectTimeout: 3000, commandTimeout: 30_000 });
    const node2 = findNode(config, 'node2')!;
    expect(node2.ssh).toMatchObject({ user: 'root', port: 2222 });
    expect(node2.keepalived).toMatchObject({ configPath: '/etc/keepalived/ka.conf', apply: 'restart', service: 'keepalived' });
  });

  it('reports every problem at once with its YAML path', () => {
    const problems = problemsOf(`
ssh: { connectTimeout: 5 minutes }
clusters:
  - name: orcl
    vips: [{ name: primary, instance: VI_PRIMARY, address: not-an-ip }]
    nodes:
      - { name: node1, host: 198.51.100.1 }
      - { name: "node;rm", host: 198.51.100.2 }
  - name: other
    vips: [{ name: primary, instance: VI_PRIMARY, address: 198.51.100.110 }]
    nodes:
      - { name: node1, host: 198.51.100.3 }
`);
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining([
      'ssh.connectTimeout',
      'clusters[0].vips[0].address',
      'clusters[0].nodes[1].name',
      'clusters[1].nodes[0].name',
    ]));
    expect(problems.find((p) => p.path === 'clusters[1].nodes[0].name')?.message).toMatch(/already used in cluster orcl/);
    expect(problems.find((p) => p.path === 'ssh.connectTimeout')?.message).toMatch(/30s, 15m, 7d/);
  });

  it('refuses unknown keys instead of ignoring a typo', () => {
    expect(problemsOf(VALID.replace('apply: restart', 'aply: restart'))).toEqual([expect.objectContaining({ path: 'keepalived' })]);
  });

  it('refuses a node and a cluster with the same name', () => {
    const problems = problemsOf(VALID.replace('name: node1', 'name: orcl'));
    expect(problems.some((p) => /names both a cluster and a node/.test(p.message))).toBe(true);
  });

  it('reports YAML syntax errors with the line', () => {
    expect(problemsOf('clusters: [\n  - name: x\n')[0]?.path).toMatch(/^line \d+/);
  });
});

describe('durations', () => {
  it.each([
    ['30s', 30_000], ['15m', 900_000], ['1h', 3_600_000], ['3d', 259_200_000], ['2w', 1_209_600_000],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(formatDuration(ms)).toBe(text);
  });
  it.each(['', '0s', '7', '7 d', '1.5h', '-1h', '1y', '7d;ls'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

/** The problems of VALID with `key: value` set in `section` globally, on cluster 0, or on its node 0. */
function problemWith(where: 'global' | 'cluster' | 'node', section: string, key: string, value: string): Array<{ path: string; message: string }> {
  const raw = parse(VALID) as { clusters: Array<Record<string, unknown> & { nodes: Array<Record<string, unknown>> }> } & Record<string, unknown>;
  const owner: Record<string, unknown> = where === 'global' ? raw : where === 'cluster' ? raw.clusters[0]! : raw.clusters[0]!.nodes[0]!;
  owner[section] = { ...(owner[section] as object | undefined), [key]: value };
  return refusedWith(() => validateConfig(raw));
}

describe('duration maxima (issue 8 item 9: commandTimeout: 30d overflowed setTimeout)', () => {
  it.each([
    ['ssh', 'connectTimeout', '6m', 'at most 5m'],
    ['ssh', 'commandTimeout', '30d', 'at most 1h'],
    ['ssh', 'commandTimeout', '61m', 'at most 1h'],
    ['ssh', 'idleTimeout', '25h', 'at most 1d'],
    ['keepalived', 'convergeTimeout', '11m', 'at most 10m'],
    ['access', 'approvalTimeout', '2d', 'at most 1d'],
    ['memory', 'sampleEvery', '2d', 'at most 1d'],
    ['memory', 'retention', '401d', 'at most 400d'],
  ])('%s.%s: %s is refused, %s', (section, key, value, message) => {
    expect(problemWith('global', section, key, value)).toEqual([{ path: `${section}.${key}`, message }]);
  });

  it('shutdownGrace: 11m is refused, at most 10m; seconds given as a number are capped too', () => {
    expect(problemsOf(`shutdownGrace: 11m\n${VALID}`)).toEqual([{ path: 'shutdownGrace', message: 'at most 10m' }]);
    expect(problemsOf(`ssh: { commandTimeout: 2592000 }\n${VALID.replace(/^ssh:\n(  .*\n)+/m, '')}`)).toEqual([{ path: 'ssh.commandTimeout', message: 'at most 1h' }]);
  });

  it.each([
    ['cluster', 'clusters[0].ssh.commandTimeout'],
    ['node', 'clusters[0].nodes[0].ssh.commandTimeout'],
  ] as const)('a %s override is capped like the global setting (%s)', (where, path) => {
    expect(problemWith(where, 'ssh', 'commandTimeout', '30d')).toEqual([{ path, message: 'at most 1h' }]);
  });

  it('each maximum is accepted, and retention may exceed a timer (it only bounds data)', () => {
    const config = parseConfigText(`shutdownGrace: 10m\nmemory: { sampleEvery: 1d, retention: 400d }\n${VALID.replace('connectTimeout: 3s', 'connectTimeout: 5m\n  commandTimeout: 1h\n  idleTimeout: 1d')}`);
    expect([config.ssh.connectTimeout, config.ssh.commandTimeout, config.ssh.idleTimeout, config.shutdownGrace, config.memory.sampleEvery]).toEqual([
      300_000, 3_600_000, 86_400_000, 600_000, 86_400_000,
    ]);
    expect(config.memory.retention).toBe(400 * 86_400_000);
  });

  it('a timer maximum at or above setTimeout\'s 2^31−1 ms cannot be declared', () => {
    expect(() => durationAtMost(MAX_TIMER_MS)).toThrow(/below 2147483647 ms/);
    expect(durationAtMost(MAX_TIMER_MS, { timer: false }).safeParse('24d').success).toBe(true);
    expect(Duration.safeParse('25d').error?.issues[0]?.message).toBe('at most 24d');
  });
});

describe('keepalived.service and keepalived.configPath: the node-command rule, at load (issue 8 item 9)', () => {
  it.each([
    ['global', 'service', '-x', 'keepalived.service', 'must be a systemd unit name'],
    ['cluster', 'service', '--now', 'clusters[0].keepalived.service', 'must be a systemd unit name'],
    ['node', 'service', 'keep alived', 'clusters[0].nodes[0].keepalived.service', 'must be a systemd unit name'],
    ['global', 'configPath', '/etc/keepalived/../shadow', 'keepalived.configPath', 'must not contain . or .. segments'],
    ['cluster', 'configPath', '/etc/./keepalived.conf', 'clusters[0].keepalived.configPath', 'must not contain . or .. segments'],
    ['node', 'configPath', '/etc/keepalived/..', 'clusters[0].nodes[0].keepalived.configPath', 'must not contain . or .. segments'],
    ['node', 'configPath', 'etc/keepalived.conf', 'clusters[0].nodes[0].keepalived.configPath', 'must be an absolute path of letters, digits and _ . @ + -'],
    ['global', 'configPath', '/etc//keepalived.conf', 'keepalived.configPath', 'must be an absolute path of letters, digits and _ . @ + -'],
  ] as const)('%s %s %j is refused at %s', (where, key, value, path, message) => {
    expect(problemWith(where, 'keepalived', key, value)).toEqual([{ path, message }]);
  });

  it('refuses a configPath whose staging and backup copies would not fit the 1024 characters the builders allow', () => {
    expect(problemWith('global', 'keepalived', 'configPath', `/${'k'.repeat(1010)}`)).toEqual([
      { path: 'keepalived.configPath', message: 'is too long: its staging and backup copies next to it must fit a path of 1024 characters' },
    ]);
  });

  it.each([
    ['service', 'keepalived@vrrp.service'],
    ['service', 'keepalived-orcl'],
    ['configPath', '/etc/keepalived/keepalived-orcl.conf'],
    ['configPath', '/opt/ka/etc/keepalived.conf'],
  ])('accepts %s %j', (key, value) => {
    const config = parseConfigText(VALID.replace('keepalived:\n  apply: restart', `keepalived:\n  apply: restart\n  ${key}: "${value}"`));
    expect(config.keepalived[key as 'service' | 'configPath']).toBe(value);
  });
});

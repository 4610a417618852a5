import { describe, expect, it } from 'vitest';
import { ConfigError, findNode, parseConfigText } from '../../../src/config/config.ts';
import { formatDuration, parseDuration } from '../../../src/config/duration.ts';

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
  try {
    parseConfigText(text);
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

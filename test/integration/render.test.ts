/**
 * `vipbot render` against the lab: the files it writes from the inventory pass `keepalived -t` on the
 * hosts and, installed there, give the same VIP placement as the lab's own hand-written files — before
 * and after the notes' failover.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseDocument } from 'yaml';
import { PRIMARY_CHECK, STANDBY_CHECK } from '../../lab/keepalived-conf.ts';
import { hostExec, setRole, vipHolders, waitFor } from '../../lab/lab.ts';

const lab = inject('lab');
const CONF = '/etc/keepalived/keepalived.conf';
const PRIMARY_VIP = '198.51.100.100';
const STANDBY_VIP = '198.51.100.101';
const NODES = ['node1', 'node2'];
const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VIPBOT_')));
const originals = new Map<string, string>();
let configPath: string;
let outDir: string;

async function placement(expected: Record<string, string>): Promise<boolean> {
  const h = await vipHolders();
  return Object.entries(expected).every(([vip, node]) => h[vip]?.join() === node);
}

async function install(node: string, text: string): Promise<void> {
  await hostExec(node, ['dd', `of=${CONF}`, 'status=none'], { input: text });
  await hostExec(node, ['systemctl', 'reload', 'keepalived']);
}

beforeAll(async () => {
  for (const node of NODES) originals.set(node, (await hostExec(node, ['cat', CONF])).stdout);
  // The lab's inventory plus a render block in the lab's own terms (1 s checks, scripts as oracle).
  const doc = parseDocument(readFileSync(lab.configPath, 'utf8'));
  doc.setIn(['clusters', 0, 'render'], doc.createNode({ interface: 'eth0', advertInt: 1, checks: { interval: 1, rise: 1, fall: 1 }, scriptUser: 'oracle', authPass: 'rendered' }));
  doc.setIn(['clusters', 0, 'vips', 0], doc.createNode({ name: 'primary', instance: 'VI_PRIMARY', address: `${PRIMARY_VIP}/24`, routerId: 51, track: PRIMARY_CHECK, master: 'node1' }));
  doc.setIn(['clusters', 0, 'vips', 1], doc.createNode({ name: 'standby', instance: 'VI_STANDBY', address: `${STANDBY_VIP}/24`, routerId: 52, track: STANDBY_CHECK, master: 'node2' }));
  const dir = mkdtempSync(join(tmpdir(), 'vipbot-render-'));
  configPath = join(dir, 'vipbot.yaml');
  outDir = join(dir, 'out');
  writeFileSync(configPath, doc.toString());
  await setRole('node1', 'PRIMARY');
  await setRole('node2', 'STANDBY');
});

afterAll(async () => {
  for (const node of NODES) if (originals.has(node)) await install(node, originals.get(node)!);
  await setRole('node1', 'PRIMARY');
  await setRole('node2', 'STANDBY');
  await waitFor(() => placement({ [PRIMARY_VIP]: 'node1', [STANDBY_VIP]: 'node2' }), 25_000, 'the lab as it was');
});

describe('vipbot render on the lab', () => {
  it('writes one file per node that keepalived -t accepts on that node', async () => {
    const res = spawnSync(process.execPath, ['bin/vipbot.js', 'render', '--out', outDir, 'orcl'], { env: { ...clean, VIPBOT_CONFIG: configPath }, encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout.trim().split('\n')).toEqual(NODES.map((n) => `wrote ${join(outDir, n, 'keepalived.conf')}`));
    for (const node of NODES) {
      const text = readFileSync(join(outDir, node, 'keepalived.conf'), 'utf8');
      await hostExec(node, ['dd', `of=${CONF}.rendered`, 'status=none'], { input: text });
      const rendered = await hostExec(node, ['keepalived', '-t', '-f', `${CONF}.rendered`]);
      const own = await hostExec(node, ['keepalived', '-t', '-f', CONF]);
      expect({ node, code: rendered.code, stderr: rendered.stderr }).toEqual({ node, code: own.code, stderr: '' });
      await hostExec(node, ['rm', '-f', `${CONF}.rendered`]);
    }
  });

  it('--diff shows what would change against the hosts and exits 1; after installing, exits 0', async () => {
    const before = spawnSync(process.execPath, ['bin/vipbot.js', 'render', '--diff', 'node1'], { env: { ...clean, VIPBOT_CONFIG: configPath }, encoding: 'utf8' });
    expect(before.status).toBe(1);
    expect(before.stdout).toMatch(/^--- node1:\/etc\/keepalived\/keepalived\.conf/m);
    expect(before.stdout).toContain('+            auth_pass rendered');
    await install('node1', readFileSync(join(outDir, 'node1', 'keepalived.conf'), 'utf8'));
    const after = spawnSync(process.execPath, ['bin/vipbot.js', 'render', '--diff', 'node1'], { env: { ...clean, VIPBOT_CONFIG: configPath }, encoding: 'utf8' });
    expect(after.stdout).toBe('# node1:/etc/keepalived/keepalived.conf is already as rendered\n');
    expect(after.status).toBe(0);
  });

  it('installed on both hosts, the VIPs sit where the lab\'s own files put them, before and after the failover', async () => {
    for (const node of NODES) await install(node, readFileSync(join(outDir, node, 'keepalived.conf'), 'utf8'));
    await waitFor(() => placement({ [PRIMARY_VIP]: 'node1', [STANDBY_VIP]: 'node2' }), 25_000, 'primary on node1, standby on node2');
    await setRole('node1', 'down');
    await setRole('node2', 'PRIMARY');
    await waitFor(() => placement({ [PRIMARY_VIP]: 'node2' }), 25_000, 'the primary VIP follows the database to node2');
    const h = await vipHolders();
    expect(h[STANDBY_VIP]).toEqual([]);
    // The notes' hazard, rendered the same way: node1's database back as PRIMARY takes the VIP back (priority 100).
    await setRole('node2', 'STANDBY');
    await setRole('node1', 'PRIMARY');
    await waitFor(() => placement({ [PRIMARY_VIP]: 'node1', [STANDBY_VIP]: 'node2' }), 25_000, 'back as at the start');
  });
});

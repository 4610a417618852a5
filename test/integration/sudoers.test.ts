/**
 * `vipbot sudoers <node>` against a lab host: the drop-in it prints takes the track scripts from the
 * node's keepalived.conf and the cgroup paths from the unit's ControlGroup (read over SSH), and sudo's
 * own parser accepts it (`visudo -cf`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { hostExec } from '../../lab/lab.ts';

const lab = inject('lab');

describe('vipbot sudoers against a lab host', () => {
  it('names the unit\'s real ControlGroup and the node\'s track scripts, and visudo accepts it', async () => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLACK_') && !k.startsWith('VIPBOT_')));
    const res = spawnSync(process.execPath, ['bin/vipbot.js', 'sudoers', 'node1'], { env: { ...clean, VIPBOT_CONFIG: lab.configPath }, encoding: 'utf8', timeout: 30_000 });
    expect(res.status, res.stderr).toBe(0);
    const controlGroup = (await hostExec('node1', ['systemctl', 'show', '-p', 'ControlGroup', '--value', 'keepalived'])).stdout.trim();
    expect(controlGroup).toMatch(/^\/\S+/);
    expect(res.stdout).toContain(`# memory reads under ${controlGroup} (ControlGroup of keepalived on node1)`);
    expect(res.stdout).toContain(`/usr/bin/cat -- /sys/fs/cgroup/memory${controlGroup}/memory.stat`);
    expect(res.stdout).toContain(`/usr/bin/cat -- /sys/fs/cgroup${controlGroup}/memory.current`);
    // The lab's track scripts run as oracle, as in the notes.
    expect(res.stdout).toMatch(/^vipbot ALL = \(oracle\) NOPASSWD: \/etc\/keepalived\/primary_check\.sh "", \/etc\/keepalived\/standby_check\.sh ""$/m);

    const file = join(mkdtempSync(join(tmpdir(), 'vipbot-sudoers-')), 'vipbot');
    writeFileSync(file, res.stdout, { mode: 0o440 });
    const check = execFileSync('visudo', ['-cf', file], { encoding: 'utf8' });
    expect(check).toMatch(/parsed OK/);
  });
});

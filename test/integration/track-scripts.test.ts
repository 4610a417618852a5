/**
 * Track scripts run exactly as keepalived runs them (SPEC §8), on a lab host with real keepalived:
 * a script keepalived runs as `oracle` (global_defs script_user, no user of its own) the bot runs as
 * `oracle`; a root script that keepalived refuses under enable_script_security (a group-writable
 * directory on its path) the bot does not run, and the status says why and what fixes it.
 * Every file the test changes on the host is put back afterwards.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hostExec, vipHolders, waitFor } from '../../lab/lab.ts';
import { loadConfig } from '../../src/config/config.ts';
import { SshPool } from '../../src/hosts/ssh-pool.ts';
import { silentLogger } from '../../src/logger.ts';
import type { VipStatus } from '../../src/model.ts';
import { createStatusCollector } from '../../src/status/collect-status.ts';

const lab = inject('lab');
const NODE = 'node2';
const CONF = '/etc/keepalived/keepalived.conf';
const WHOAMI = '/etc/keepalived/whoami_check.sh';
const WHOAMI_LOG = '/tmp/vipbot-whoami.log';
const UNSAFE_DIR = '/etc/keepalived/unsafe.d';
const UNSAFE = `${UNSAFE_DIR}/root_check.sh`;
const UNSAFE_RAN = '/tmp/vipbot-unsafe-ran';
const STANDBY_VIP = '198.51.100.101';

let original: string;
let pool: SshPool;

const sh = async (script: string): Promise<string> => {
  const res = await hostExec(NODE, ['sh', '-c', script]);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout;
};

/** The lab's own config with one more vrrp_script, tracked by VI_STANDBY (always passing, so no VIP moves). */
function withScript(block: string, scriptUser = 'root'): string {
  const name = /^vrrp_script (\S+)/.exec(block)![1]!;
  const conf = original.replace(/script_user root/, `script_user ${scriptUser}`)
    .replace(/^vrrp_instance VI_PRIMARY/m, `${block}\n\nvrrp_instance VI_PRIMARY`);
  return conf.replace(/(vrrp_instance VI_STANDBY \{[\s\S]*?track_script \{\n)/, (m) => `${m}            ${name}\n`);
}

async function install(conf: string, reload: boolean): Promise<void> {
  const res = await hostExec(NODE, ['dd', `of=${CONF}`, 'status=none'], { input: conf });
  expect(res.code, res.stderr).toBe(0);
  if (reload) expect((await hostExec(NODE, ['systemctl', 'reload', 'keepalived'])).code).toBe(0);
}

async function status(): Promise<VipStatus> {
  return createStatusCollector(loadConfig(lab.configPath), pool).collect({ kind: 'all' });
}

beforeAll(async () => {
  original = (await hostExec(NODE, ['cat', CONF])).stdout;
  expect(original).toMatch(/enable_script_security/);
  pool = new SshPool({ logger: silentLogger() });
});

afterAll(async () => {
  await pool?.close();
  if (original === undefined) return;
  await install(original, true);
  await hostExec(NODE, ['rm', '-rf', WHOAMI, WHOAMI_LOG, UNSAFE_DIR, UNSAFE_RAN]);
  await waitFor(async () => ((await vipHolders())[STANDBY_VIP] ?? []).join() === NODE, 20_000, `${STANDBY_VIP} back on ${NODE}`);
});

describe('track scripts as keepalived runs them', () => {
  it('a script keepalived runs as oracle (global_defs script_user oracle) runs as oracle', async () => {
    // Who ran it, and from what: keepalived's own runs come from keepalived, the bot's through runuser.
    const script = `#!/bin/sh\necho "$(id -un) $(cat /proc/$PPID/comm)" >> ${WHOAMI_LOG}\n`;
    await hostExec(NODE, ['dd', `of=${WHOAMI}`, 'status=none'], { input: script });
    await sh(`chmod 0755 ${WHOAMI} && rm -f ${WHOAMI_LOG}`);
    await install(withScript(`vrrp_script chk_whoami {\n      script "${WHOAMI}"\n      interval 1\n}`, 'oracle'), true);
    const runs = async () => (await hostExec(NODE, ['cat', WHOAMI_LOG])).stdout.split('\n').filter(Boolean);
    await waitFor(async () => (await runs()).some((l) => l.endsWith(' keepalived')), 10_000, 'keepalived running chk_whoami');
    const before = (await runs()).length;

    const payload = await status();
    const byBot = (await runs()).slice(before).filter((l) => !l.endsWith(' keepalived'));
    // keepalived and the bot both ran it as oracle (the old code ran it as root).
    const byKeepalived = (await runs()).filter((l) => l.endsWith(' keepalived'));
    expect(new Set(byKeepalived.map((l) => l.split(' ')[0]))).toEqual(new Set(['oracle']));
    expect(byBot.length).toBeGreaterThanOrEqual(1);
    expect(new Set(byBot.map((l) => l.split(' ')[0]))).toEqual(new Set(['oracle']));
    const node = payload.clusters[0]!.nodes.find((n) => n.name === NODE)!;
    const checks = node.instances.find((i) => i.name === 'VI_STANDBY')?.checks;
    expect(checks).toContainEqual({ name: 'chk_whoami', exitCode: 0, pass: true });
    expect(payload.clusters[0]!.warnings.filter((w) => w.code === 'check_failed')).toEqual([]);
  });

  it('a root script keepalived refuses (enable_script_security, group-writable dir) is not run and is reported', async () => {
    // oinstall (oracle's group) may write the directory: oracle could swap the script keepalived runs as root.
    await sh(`mkdir -p ${UNSAFE_DIR} && chgrp oinstall ${UNSAFE_DIR} && chmod 0775 ${UNSAFE_DIR} && rm -f ${UNSAFE_RAN}`);
    await hostExec(NODE, ['dd', `of=${UNSAFE}`, 'status=none'], { input: `#!/bin/sh\ntouch ${UNSAFE_RAN}\n` });
    await sh(`chmod 0755 ${UNSAFE}`);
    const conf = withScript(`vrrp_script chk_unsafe {\n      script "${UNSAFE}"\n      interval 1\n}`);
    await install(conf, false);
    // keepalived's own verdict on this file, before it loads it.
    const test = await hostExec(NODE, ['keepalived', '-t', '-f', CONF]);
    expect(`${test.stdout}${test.stderr}`).toMatch(/Disabling track script chk_unsafe due to insecure/);
    await install(conf, true);
    await new Promise((r) => setTimeout(r, 2_500));

    const payload = await status();
    // Neither keepalived nor the bot ran it.
    expect((await hostExec(NODE, ['test', '-e', UNSAFE_RAN])).code).toBe(1);
    const gid = (await sh('getent group oinstall')).split(':')[2];
    expect(payload.clusters[0]!.warnings.filter((w) => w.code === 'check_failed')).toEqual([{
      code: 'check_failed',
      nodes: [NODE],
      message: `track script chk_unsafe (${UNSAFE}, as root) is not run on ${NODE}: `
        + `${UNSAFE_DIR} is writable by its group (gid ${gid}) and chk_unsafe would run as root — `
        + 'keepalived (enable_script_security) refuses it too; keepalived does not track it then, '
        + `so VIP standby (${STANDBY_VIP}) does not follow that check. `
        + `Fix: chmod g-w ${UNSAFE_DIR} (or give vrrp_script chk_unsafe a non-root "user").`,
    }]);
    const node = payload.clusters[0]!.nodes.find((n) => n.name === NODE)!;
    expect(node.instances.find((i) => i.name === 'VI_STANDBY')?.checks?.map((c) => c.name)).toEqual(['chk_standby']);

    // The fix the message names makes the bot run it (as root, as keepalived would once it reloads).
    await sh(`chmod g-w ${UNSAFE_DIR}`);
    const fixed = await status();
    expect((await hostExec(NODE, ['test', '-e', UNSAFE_RAN])).code).toBe(0);
    expect(fixed.clusters[0]!.warnings.filter((w) => w.code === 'check_failed')).toEqual([]);
  });
});

/** The process refuses to start on bad settings: one line per problem, non-zero exit, before listening. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'vipbot-cli-'));

function runVipbot(args: string[], env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLACK_') && !k.startsWith('VIPBOT_')));
  return spawnSync(process.execPath, ['bin/vipbot.js', ...args], { env: { ...clean, PORT: '0', ...env }, encoding: 'utf8', timeout: 30_000 });
}

describe('vipbot startup checks', () => {
  it('lists every missing setting and every config problem with its YAML path, and exits 1', () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, `clusters:\n  - name: orcl\n    vips: [{ name: primary, instance: VI_PRIMARY, address: 198.51.100.100 }]\n    nodes:\n      - { name: node1, host: 198.51.100.1 }\n      - { name: node2, host: "not a host" }\n`);
    const res = runVipbot(['all'], { VIPBOT_CONFIG: config });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('SLACK_BOT_TOKEN: required');
    expect(res.stderr).toContain('SLACK_SIGNING_SECRET: required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)');
    expect(res.stderr).toContain(`${config}: clusters[0].nodes[1].host: use an IP address or a DNS name`);
    expect(res.stdout).toBe('');
  });

  it('says where the config should be when it is missing', () => {
    const res = runVipbot(['status'], { VIPBOT_CONFIG: join(dir, 'nope.yaml') });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/VIPBOT_CONFIG: file not found; set VIPBOT_CONFIG to the config path/);
  });

  it('rejects a malformed token before anything starts', () => {
    const config = join(dir, 'ok.yaml');
    writeFileSync(config, `clusters:\n  - name: orcl\n    vips: [{ name: primary, instance: VI_PRIMARY, address: 198.51.100.100 }]\n    nodes: [{ name: node1, host: 198.51.100.1 }]\n`);
    const res = runVipbot(['bot'], { VIPBOT_CONFIG: config, SLACK_BOT_TOKEN: 'not-a-token', SLACK_SIGNING_SECRET: 'abcdefghijkl' });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/SLACK_BOT_TOKEN: use the bot token/);
  });

  it('prints usage for an unknown command', () => {
    const res = runVipbot(['frobnicate'], {});
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/unknown command "frobnicate"/);
  });
});

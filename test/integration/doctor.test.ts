/**
 * `vipbot doctor` as an operator runs it after an install, against the lab: passes on a healthy setup
 * (Redis with AOF and noeviction, a working Slack token, every node and track script fine), and fails
 * with the right fix on each broken piece, exiting 1.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseDocument } from 'yaml';
import { allowSudo, hostExec, rekey, revokeSudo } from '../../lab/lab.ts';
import { DoctorReport, type CheckResult } from '../../src/doctor/doctor.ts';
import { LocalWebApi } from '../../src/slack/local-web-api.ts';
import { freePort } from '../support/free-port.ts';

const lab = inject('lab');
const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLACK_') && !k.startsWith('VIPBOT_') && !k.startsWith('REDIS_')));
const STANDBY_CHECK_ON_NODE1 = '/etc/keepalived/standby_check.sh';

let webApi: LocalWebApi;
let redis: { child: ChildProcess; url: string; dir: string };
let lru: { child: ChildProcess; url: string; dir: string };

async function startRedis(args: string[]): Promise<{ child: ChildProcess; url: string; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vipbot-doctor-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...args], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: `redis://127.0.0.1:${port}`, dir };
}

/** Runs `vipbot doctor --json` as an operator would (async: the local Web API answers from this process). */
async function doctor(env: Record<string, string> = {}, configPath = lab.configPath): Promise<{ status: number | null; report: DoctorReport }> {
  const base = { ...clean, VIPBOT_CONFIG: configPath, REDIS_URL: redis.url, SLACK_BOT_TOKEN: 'xoxb-doctor-good', SLACK_API_URL: webApi.url, ...env };
  const res = await promisify(execFile)(process.execPath, ['bin/vipbot.js', 'doctor', '--json'], { env: base, encoding: 'utf8', timeout: 90_000 })
    .then((r) => ({ ...r, status: 0 }), (err: { stdout?: string; stderr?: string; code?: number }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '', status: err.code ?? null }));
  expect(res.stdout, res.stderr).not.toBe('');
  return { status: typeof res.status === 'number' ? res.status : null, report: DoctorReport.parse(JSON.parse(res.stdout)) };
}

const failed = (report: DoctorReport): Array<Pick<CheckResult, 'name' | 'fix'>> => report.checks.filter((c) => c.status === 'fail').map((c) => ({ name: c.name, fix: c.fix }));

beforeAll(async () => {
  webApi = await new LocalWebApi({ botUserId: 'U0VIPBOT', invalidTokens: ['xoxb-doctor-revoked'] }).start();
  redis = await startRedis(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']);
  lru = await startRedis(['--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru']);
});

afterAll(async () => {
  for (const r of [redis, lru]) {
    r?.child.kill('SIGKILL');
    if (r) rmSync(r.dir, { recursive: true, force: true });
  }
  await webApi?.stop();
});

describe('vipbot doctor against the lab', () => {
  it('passes a healthy install: every check PASS, exit 0', async () => {
    const { status, report } = await doctor();
    expect(failed(report)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(expect.arrayContaining([
      'config', 'redis reachable', 'redis appendonly', 'redis maxmemory-policy', 'slack token', 'slack channel C0VIPOPS',
      'node1 ssh', 'node1 keepalived version', 'node1 keepalived config', 'node2 ssh', 'orcl configs consistent',
    ]));
    expect(report.checks.find((c) => c.name === 'node1 keepalived version')?.detail).toMatch(/^keepalived 2\.\d+\.\d+$/);
    expect(status).toBe(0);
  });

  it('Redis with allkeys-lru and AOF off: both FAIL with the settings to change', async () => {
    const { status, report } = await doctor({ REDIS_URL: lru.url });
    expect(failed(report).map((c) => c.name)).toEqual(['redis appendonly', 'redis maxmemory-policy']);
    expect(failed(report)[1]!.fix).toMatch(/maxmemory-policy noeviction/);
    expect(status).toBe(1);
  });

  it('a revoked Slack token: FAIL slack token, with where to get the right one', async () => {
    const { status, report } = await doctor({ SLACK_BOT_TOKEN: 'xoxb-doctor-revoked' });
    expect(failed(report)).toEqual([{ name: 'slack token', fix: expect.stringMatching(/SLACK_BOT_TOKEN/) }]);
    expect(report.checks.find((c) => c.name === 'slack token')?.detail).toBe('auth.test failed: invalid_auth');
    expect(status).toBe(1);
  });

  it('a changed host key: FAIL naming the node, with how to update known_hosts', async () => {
    const knownHosts = readFileSync(lab.knownHostsPath, 'utf8');
    await rekey('node2');
    try {
      const { status, report } = await doctor();
      expect(failed(report).map((c) => c.name)).toEqual(['node2 host key']);
      expect(failed(report)[0]!.fix).toMatch(/known_hosts/);
      expect(status).toBe(1);
    } finally {
      // Trust the new key, as an operator does after checking a rebuilt host (and as status.test does:
      // the lab's known_hosts may already name another key than the one the lab started with).
      const scanned = spawnSync('ssh-keyscan', ['-t', 'ed25519', '198.51.100.2'], { encoding: 'utf8' }).stdout;
      writeFileSync(lab.knownHostsPath, `${knownHosts.split('\n').filter((l) => !l.startsWith('198.51.100.2 ')).join('\n').trimEnd()}\n${scanned}`);
    }
  });

  it('a non-executable and a missing track script: FAIL each with chmod / install', async () => {
    await hostExec('node1', ['chmod', '-x', STANDBY_CHECK_ON_NODE1]);
    try {
      const { report } = await doctor();
      expect(failed(report)).toEqual([{ name: `node1 track script ${STANDBY_CHECK_ON_NODE1}`, fix: expect.stringMatching(/^chmod \w\+x /) }]);
    } finally {
      await hostExec('node1', ['chmod', '+x', STANDBY_CHECK_ON_NODE1]);
    }
    await hostExec('node1', ['mv', STANDBY_CHECK_ON_NODE1, `${STANDBY_CHECK_ON_NODE1}.away`]);
    try {
      const { report } = await doctor();
      expect(failed(report)).toEqual([{ name: `node1 track script ${STANDBY_CHECK_ON_NODE1}`, fix: expect.stringMatching(/^install the script/) }]);
    } finally {
      await hostExec('node1', ['mv', `${STANDBY_CHECK_ON_NODE1}.away`, STANDBY_CHECK_ON_NODE1]);
    }
  });

  it('with ssh.sudo: PASS with the generated sudoers, FAIL with the fix when it is missing', async () => {
    const doc = parseDocument(readFileSync(lab.configPath, 'utf8'));
    doc.setIn(['ssh', 'user'], 'vipbot');
    doc.setIn(['ssh', 'sudo'], true);
    const configPath = join(mkdtempSync(join(tmpdir(), 'vipbot-doctor-')), 'vipbot.yaml');
    writeFileSync(configPath, doc.toString());
    for (const node of ['node1', 'node2']) {
      const res = spawnSync(process.execPath, ['bin/vipbot.js', 'sudoers', '--user', 'vipbot', node], { env: { ...clean, VIPBOT_CONFIG: lab.configPath }, encoding: 'utf8' });
      await allowSudo(node, res.stdout);
    }
    try {
      const ok = await doctor({}, configPath);
      expect(failed(ok.report)).toEqual([]);
      expect(ok.report.checks.find((c) => c.name === 'node1 sudo')?.status).toBe('pass');
      await revokeSudo('node2');
      const missing = await doctor({}, configPath);
      expect(failed(missing.report)).toEqual([{ name: 'node2 sudo', fix: expect.stringContaining('vipbot sudoers --user vipbot node2') }]);
      expect(missing.status).toBe(1);
    } finally {
      for (const node of ['node1', 'node2']) await revokeSudo(node);
    }
  });
});

/**
 * The deploy files are checked by the tools that will read them (there is no Docker engine here):
 * `docker-compose config` accepts the Compose file, `systemd-analyze verify` the units, `promtool
 * check rules` the alert rules. The properties SPEC §9 names are asserted on what those tools print.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const root = join(import.meta.dirname, '..', '..', '..');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  if (out.error) throw new Error(`${cmd} could not run (${out.error.message}); scripts/ensure-deps.sh installs it`);
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

const ComposeService = z.object({
  command: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  healthcheck: z.object({ test: z.array(z.string()) }).optional(),
  read_only: z.boolean().optional(),
});
const Compose = z.object({ services: z.record(z.string(), ComposeService) });

describe('docker-compose.yml', () => {
  const checked = run('docker-compose', ['config']);
  const compose = Compose.parse(parse(checked.stdout));

  it('is accepted by docker-compose config, without any variable set', () => {
    expect(checked.stderr).toBe('');
    expect(checked.status).toBe(0);
    expect(Object.keys(compose.services).sort()).toEqual(['bot', 'redis', 'worker']);
  });

  it('runs Redis with AOF and no eviction, with a health check', () => {
    const redis = compose.services.redis!;
    expect(redis.command?.join(' ')).toContain('--appendonly yes');
    expect(redis.command?.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(redis.healthcheck?.test).toBeDefined();
  });

  it.each(['bot', 'worker'])('runs `vipbot %s` with config, key and known_hosts mounted read-only and a health check', (name) => {
    const service = compose.services[name]!;
    expect(service.command).toEqual([name]);
    const mounts = service.volumes ?? [];
    for (const target of ['/etc/vipbot/vipbot.yaml', '/etc/vipbot/id_ed25519', '/etc/vipbot/known_hosts']) {
      expect(mounts.find((m) => m.includes(`:${target}`))).toMatch(/:ro$/);
    }
    expect(service.healthcheck?.test.join(' ')).toContain('/healthz');
    expect(service.read_only).toBe(true);
  });

  it('lets workers scale: no fixed container name or host port on worker', () => {
    const raw = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    const worker = (parse(raw) as { services: Record<string, Record<string, unknown>> }).services.worker!;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  it('is multi-stage, keeps production dependencies only and runs as a non-root user', () => {
    expect(text.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/npm prune --omit=dev|npm ci [^\n]*--omit=dev/);
    const user = [...text.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]).pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)$/);
    expect(text).toMatch(/^HEALTHCHECK /m);
  });
});

describe('systemd units', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipbot-units-'));
  // A template is verified as one of its instances.
  const units = {
    'vipbot-bot.service': 'vipbot-bot.service',
    'vipbot-worker@.service': 'vipbot-worker@1.service',
  };
  for (const [file, as] of Object.entries(units)) copyFileSync(join(root, 'deploy/systemd', file), join(dir, as));

  it.each(Object.values(units))('systemd-analyze verify accepts %s with no warning', (unit) => {
    const out = run('systemd-analyze', ['verify', join(dir, unit)]);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
  });

  it.each(Object.keys(units))('%s runs as a dedicated user, restarts on failure and is hardened', (file) => {
    const text = readFileSync(join(root, 'deploy/systemd', file), 'utf8');
    for (const line of ['User=vipbot', 'Restart=on-failure', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'ReadOnlyPaths=/etc/vipbot']) {
      expect(text.split('\n')).toContain(line);
    }
  });
});

describe('Prometheus alert rules', () => {
  it('promtool check rules accepts deploy/prometheus/vipbot-alerts.yml', () => {
    const out = run('promtool', ['check', 'rules', 'deploy/prometheus/vipbot-alerts.yml']);
    expect(out.stdout + out.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(out.status).toBe(0);
  });

  it('pages on split brain and a missing VIP from vipbot_warnings', () => {
    const text = readFileSync(join(root, 'deploy/prometheus/vipbot-alerts.yml'), 'utf8');
    expect(text).toMatch(/vipbot_warnings\{code="split_brain"\}/);
    expect(text).toMatch(/vipbot_warnings\{code="vip_missing"\}/);
  });
});

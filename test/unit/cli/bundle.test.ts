/**
 * bin/vipbot.js runs the bundle only while it matches the sources: an edited source file (its size or
 * mtime differ from dist/inputs.json) makes it run the sources instead, never a stale build.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync, utimesSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

function version(env: Record<string, string> = {}): string {
  const res = spawnSync(process.execPath, ['bin/vipbot.js', 'version'], { env: { ...process.env, VIPBOT_FROM_SOURCE: '', ...env }, encoding: 'utf8', timeout: 30_000 });
  expect(res.status, res.stderr).toBe(0);
  return res.stdout;
}

describe('the built bundle', () => {
  it('is what bin/vipbot.js runs while every input is unchanged, and the sources once one changes', () => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'pipe', timeout: 60_000 });
    const inputs = Object.keys((JSON.parse(readFileSync('dist/inputs.json', 'utf8')) as { inputs: Record<string, unknown> }).inputs);
    // Everything the CLI reaches is in the bundle: commands, jobs, and the chart worker beside it.
    expect(inputs).toEqual(expect.arrayContaining(['src/cli.ts', 'commands/status.ts', 'jobs/status.ts', 'src/memory/chart-png-worker.mjs']));
    expect(version()).toMatch(/^vipbot \d+\.\d+\.\d+, node v\d+.*running the bundle \(dist\/vipbot\.mjs\)$/m);
    expect(version({ VIPBOT_FROM_SOURCE: '1' })).toMatch(/running the sources \(tsx\)/);

    // As an editor's save would: the content may be the same, the mtime is not.
    const file = 'commands/status.ts';
    const { atime, mtime } = statSync(file);
    utimesSync(file, atime, new Date(mtime.getTime() + 1_000));
    expect(version()).toMatch(/running the sources \(tsx\)/);
    // A rebuild takes the edit in.
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'pipe', timeout: 60_000 });
    expect(version()).toMatch(/running the bundle/);
  }, 60_000);
});

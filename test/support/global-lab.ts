/**
 * Integration suite setup: Redis must answer, and one lab (2 hosts = cluster `orcl`) serves every
 * integration file. A 2-host lab that is already up (e.g. `npm run lab -- up` by hand) is reused and
 * left up; one of another size (the bench's 20) is brought to 2 hosts and put back afterwards.
 */
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { labDown, labInfo, labUp, type LabInfo } from '../../lab/lab.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    lab: LabInfo;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  try {
    execFileSync('redis-cli', ['-u', redisUrl, 'ping'], { stdio: 'pipe' });
  } catch {
    throw new Error(`Redis is not answering at ${redisUrl}; start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`);
  }
  const existing = await labInfo();
  const log = (line: string): void => void process.stderr.write(`[lab] ${line}\n`);
  const reuse = existing?.hosts.length === 2;
  const lab = reuse && existing ? existing : await labUp(2, { log });
  project.provide('lab', lab);
  project.provide('redisUrl', redisUrl);
  return async () => {
    if (reuse) return;
    if (existing) await labUp(existing.hosts.length, { log });
    else await labDown();
  };
}

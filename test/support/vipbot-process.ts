/**
 * Real `vipbot bot|worker|all` processes (bin/vipbot.js), for tests of what only separate processes
 * show: scale-out, SIGTERM, Redis failover. Logs are kept in memory for the failure message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

const root = join(import.meta.dirname, '..', '..');

export interface VipbotProcess {
  role: string;
  port: number;
  child: ChildProcess;
  /** stderr (pino JSON lines) so far. */
  log(): string;
  /** Resolves with the exit code (or signal) and how long after `since` the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startVipbotProcess(role: string, env: Record<string, string>, opts: { port?: number } = {}): Promise<VipbotProcess> {
  const port = opts.port ?? (await freePort());
  const child = spawn(process.execPath, [join(root, 'bin/vipbot.js'), role], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'info', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 2_000_000) stderr = stderr.slice(-1_000_000);
  });
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  return {
    role, port, child, exited,
    log: () => stderr,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until GET /healthz on the process answers 200. */
export async function waitHealthy(proc: VipbotProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`vipbot ${proc.role} exited (${proc.child.exitCode}):\n${proc.log().slice(-3000)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${proc.port}/healthz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`vipbot ${proc.role} not healthy within ${timeoutMs} ms:\n${proc.log().slice(-3000)}`);
}

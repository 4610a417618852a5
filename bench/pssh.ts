/**
 * The comparison point: Debian's `parallel-ssh` (pssh) running the same node commands a status runs,
 * on every host at once, over fresh OpenSSH connections with host keys checked against the lab's
 * known_hosts. One invocation per round; its wall-clock time is the measurement.
 */
import { spawn } from 'node:child_process';

export interface PsshOptions {
  hosts: readonly string[];
  user: string;
  keyPath: string;
  knownHostsPath: string;
  /** The remote command line (the status's commands joined with `; `). */
  command: string;
  timeoutMs?: number;
}

export interface PsshRound {
  ms: number;
  /** parallel-ssh's exit status: 0, or 5 when a remote command exited non-zero (a failing track script). */
  code: number;
  /** Hosts whose ssh itself failed or timed out (anything but SUCCESS / "Exited with error code N<255"). */
  broken: string[];
}

/** Runs one `parallel-ssh` over all hosts; resolves with the wall-clock ms from spawn to exit. */
export function psshRound(options: PsshOptions): Promise<PsshRound> {
  const sshArgs = `-i ${options.keyPath} -o UserKnownHostsFile=${options.knownHostsPath} -o StrictHostKeyChecking=yes -o BatchMode=yes`;
  const args = ['-H', options.hosts.join(' '), '-l', options.user, '-p', String(options.hosts.length), '-x', sshArgs, options.command];
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('parallel-ssh', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => out.push(b));
    child.on('error', (err) => reject(new Error(`cannot run parallel-ssh (Debian package pssh): ${err.message}`)));
    child.on('close', (code, signal) => {
      const ms = performance.now() - started;
      const text = Buffer.concat(out).toString('utf8');
      if (signal) {
        reject(new Error(`parallel-ssh killed by ${signal} after ${Math.round(ms)} ms:\n${text}`));
        return;
      }
      const broken = options.hosts.filter((host) => {
        const line = text.split('\n').find((l) => new RegExp(`\\] ${host.replace(/\./g, '\\.')}(\\s|$)`).test(l)) ?? '';
        if (/\[SUCCESS\]/.test(line)) return false;
        const m = /\[FAILURE\].*Exited with error code (\d+)/.exec(line);
        return !(m && Number(m[1]) !== 255);
      });
      if (code !== 0 && code !== 5) {
        reject(new Error(`parallel-ssh exited ${String(code)} (broken hosts: ${broken.join(', ') || 'none'}):\n${text}`));
        return;
      }
      resolve({ ms, code: code ?? -1, broken });
    });
  });
}

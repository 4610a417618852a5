/**
 * Pieces the per-size bench (run.ts) and the 100-host phase (scale.ts) share: one timed `/vip status`,
 * the bench's copy of the lab's vipbot.yaml, and errors that carry the bot's last output lines.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { LabInfo } from '../lab/lab.ts';
import type { BotProcess } from './bot-process.ts';
import { checkStatusPayload, type PostWatcher, type SlashClient } from './slack.ts';

/** One measured `/vip status`, in epoch ms (performance.timeOrigin + now) so it lines up with BullMQ's job times. */
export interface StatusTiming {
  ms: number;
  startEpoch: number;
  ackMs: number;
  postEpoch: number;
}

/** One `/vip status`: from sending the POST to the vip_status post arriving at the stand-in. */
export async function statusRun(client: SlashClient, watcher: PostWatcher, hosts: number): Promise<StatusTiming> {
  const index = watcher.posts.length;
  const started = performance.now();
  const res = await client.command('status');
  if (res.status !== 200) throw new Error(`/vip status answered ${res.status}: ${res.body.slice(0, 200)}`);
  await watcher.waitForCount(index + 1, 60_000);
  const post = watcher.posts[index];
  if (!post) throw new Error('lost the vip_status post');
  const check = checkStatusPayload(post.call);
  if (check.nodes !== hosts || check.unreachable.length) {
    throw new Error(`the status covered ${check.nodes} of ${hosts} nodes; unreachable: ${check.unreachable.join(', ') || 'none'}`);
  }
  return { ms: post.at - started, startEpoch: performance.timeOrigin + started, ackMs: res.latencyMs, postEpoch: performance.timeOrigin + post.at };
}

/** A copy of the lab's vipbot.yaml with ssh.idleTimeout set (when given) and other settings by dotted path (`ssh.connectTimeout`). */
export async function writeConfig(lab: LabInfo, dir: string, name: string, idleTimeout?: string, extra: Record<string, unknown> = {}): Promise<string> {
  const doc = parseDocument(await readFile(lab.configPath, 'utf8'));
  if (idleTimeout !== undefined) doc.setIn(['ssh', 'idleTimeout'], idleTimeout);
  for (const [path, value] of Object.entries(extra)) doc.setIn(path.split('.'), value);
  const path = join(dir, `${name}.yaml`);
  await writeFile(path, doc.toString(), { mode: 0o644 });
  return path;
}

export function withBotTail(err: unknown, bot: BotProcess): Error {
  const base = err instanceof Error ? err : new Error(String(err));
  const tail = bot.tail(15);
  return tail ? new Error(`${base.message}\n--- bot output (last lines):\n${tail}`, { cause: err }) : base;
}

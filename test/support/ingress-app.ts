/**
 * A real Bolt app on the production HTTP receiver (ingress gate included) with the real dispatcher
 * over a recording queue: what reaches the queue is exactly what a signed request got through.
 */
import { commands } from '../../commands/index.ts';
import { AccessControl } from '../../src/access/access-control.ts';
import { CommandDispatcher } from '../../src/commands/dispatch.ts';
import { parseConfigText } from '../../src/config/config.ts';
import { silentLogger } from '../../src/logger.ts';
import { createBoltApp, createHttpReceiver } from '../../src/slack/bolt-app.ts';
import type { ReplayMemory } from '../../src/slack/replay-guard.ts';
import { FakeDirectory, RecordingQueue } from './fakes.ts';

export const INGRESS_SECRET = 'ingress-signing-secret-0123456789';

export const INGRESS_CONFIG = parseConfigText(`
access:
  viewers: [U0VIEW1]
  operators: [U0OPER1]
  channels: [C0VIPOPS]
clusters:
  - name: orcl
    vips: [{ name: primary, instance: VI_PRIMARY, address: 198.51.100.100 }]
    nodes: [{ name: node1, host: 198.51.100.1 }, { name: node2, host: 198.51.100.2 }]
`);

export interface IngressApp {
  url: string;
  queue: RecordingQueue;
  stop(): Promise<void>;
}

export async function startIngressApp(options: { replayMemory?: ReplayMemory } = {}): Promise<IngressApp> {
  const logger = silentLogger();
  const queue = new RecordingQueue();
  const access = new AccessControl(INGRESS_CONFIG.access, new FakeDirectory());
  const dispatcher = new CommandDispatcher({ config: INGRESS_CONFIG, commands, access, queue, logger });
  const replay = options.replayMemory ? { replayMemory: options.replayMemory } : {};
  const receiver = createHttpReceiver({ signingSecret: INGRESS_SECRET, logger, routes: [], ...replay });
  const app = createBoltApp({ token: 'xoxb-test-token', receiver, dispatcher, logger, botUserId: 'U0VIPBOT' });
  const server: unknown = await app.start(0);
  const address = (server as { address(): { port: number } }).address();
  return {
    url: `http://127.0.0.1:${address.port}/slack/events`,
    queue,
    stop: () => app.stop().then(() => undefined),
  };
}

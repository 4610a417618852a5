/**
 * Socket Mode (SLACK_APP_TOKEN set): the bot opens its connection through apps.connections.open on
 * SLACK_API_URL with the app-level token, takes slash commands as envelopes over the WebSocket, acks
 * each on the socket by envelope_id, and posts results with the bot token. The WebSocket server here
 * plays Slack's side of the protocol on 127.0.0.1; the facts come from the lab as over HTTP.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { loadConfig } from '../../src/config/config.ts';
import { Env } from '../../src/env.ts';
import { silentLogger } from '../../src/logger.ts';
import { startRuntime, type Runtime } from '../../src/main.ts';
import type { VipStatus } from '../../src/model.ts';
import { LocalWebApi } from '../../src/slack/local-web-api.ts';
import { deleteKeys } from '../support/bot-harness.ts';
import { slashCommandBody } from '../support/slack-signing.ts';

const lab = inject('lab');
const redisUrl = inject('redisUrl');
const APP_TOKEN = 'xapp-1-A0VIPBOT-1-local';
const BOT_TOKEN = 'xoxb-test-token';

let wss: WebSocketServer;
let webApi: LocalWebApi;
let runtime: Runtime;
let socket: WebSocket;
const prefix = `vipbot-test-${randomBytes(4).toString('hex')}`;
let httpPort = 0;
/** Everything the bot sent on the socket, parsed. */
const fromBot: Array<{ envelope_id?: string; payload?: { text?: string; response_type?: string } }> = [];

beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  const connected = new Promise<WebSocket>((resolve) => {
    wss.on('connection', (ws) => {
      ws.on('message', (data) => fromBot.push(JSON.parse(String(data)) as (typeof fromBot)[number]));
      // Slack's first frame on a new connection.
      ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'local', approximate_connection_time: 3600 }, connection_info: { app_id: 'A0VIPBOT' } }));
      resolve(ws);
    });
  });
  webApi = await new LocalWebApi({ botUserId: 'U0VIPBOT', userGroups: {}, socketModeUrl: `ws://127.0.0.1:${port}/link/?ticket=local` }).start();
  httpPort = await freePort();
  const env = Env.parse({ REDIS_URL: redisUrl, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: webApi.url, PORT: String(httpPort), VIPBOT_QUEUE_PREFIX: prefix });
  runtime = await startRuntime({ role: 'all', env, config: loadConfig(lab.configPath), logger: silentLogger() });
  socket = await Promise.race([connected, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the bot did not open the Socket Mode connection within 15 s')), 15_000))]);
});

afterAll(async () => {
  await runtime?.stop();
  for (const client of wss?.clients ?? []) client.terminate();
  await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
  await webApi?.stop();
  await deleteKeys(redisUrl, `${prefix}:*`);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Sends a slash command envelope as Slack does and resolves with the bot's ack for it. */
async function slash(text: string): Promise<{ text?: string; response_type?: string }> {
  const envelopeId = randomUUID();
  const payload = Object.fromEntries(new URLSearchParams(slashCommandBody({ text, userId: 'U0OPER1', channelId: 'C0VIPOPS', responseUrl: webApi.responseUrl })));
  socket.send(JSON.stringify({ envelope_id: envelopeId, type: 'slash_commands', accepts_response_payload: true, payload }));
  const deadline = Date.now() + 5_000;
  for (;;) {
    const ack = fromBot.find((m) => m.envelope_id === envelopeId);
    if (ack) return ack.payload ?? {};
    if (Date.now() > deadline) throw new Error(`no ack for envelope ${envelopeId} within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Socket Mode', () => {
  it('opens the connection through SLACK_API_URL with the app-level token, never the bot token', () => {
    const opens = webApi.callsOf('apps.connections.open');
    expect(opens.length).toBeGreaterThanOrEqual(1);
    expect(opens.every((c) => c.token === APP_TOKEN)).toBe(true);
  });

  it('/vip status: acked on the socket by envelope_id, then the vip_status post with the bot token', async () => {
    const started = Date.now();
    const ack = await slash('status');
    expect(ack.response_type).toBe('ephemeral');
    expect(ack.text).toMatch(/Checking all clusters/);
    const post = await webApi.waitForCall((c) => c.method === 'chat.postMessage' && c.at >= started && (c.args.metadata as { event_type?: string } | undefined)?.event_type === 'vip_status', 20_000);
    expect(post.token).toBe(BOT_TOKEN);
    expect(post.args.channel).toBe('C0VIPOPS');
    const payload = (post.args.metadata as { event_payload: VipStatus }).event_payload;
    const nodes = payload.clusters.flatMap((c) => c.nodes);
    expect(nodes.map((n) => n.name)).toEqual(['node1', 'node2']);
    expect(nodes.every((n) => n.reachable)).toBe(true);
  });

  it('serves GET /healthz and /metrics on PORT, as in HTTP mode', async () => {
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, redis: 'up', config: { clusters: 1, nodes: 2 } });
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^vipbot_commands_total\{command="status",outcome="queued"\} [1-9]/m);
  });

  it('refuses shell metacharacters in the ack, with nothing queued', async () => {
    // Jobs in any state: the previous test's job may still move from active to completed meanwhile.
    const jobs = async (): Promise<number> => Object.values(await runtime.queue.queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized')).reduce((a, b) => a + b, 0);
    const before = await jobs();
    const ack = await slash('status node1; reboot');
    expect(ack.text).toMatch(/:warning:/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await jobs()).toBe(before);
  });
});

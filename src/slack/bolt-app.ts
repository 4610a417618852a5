/**
 * The Bolt app: the only place that knows Bolt. It acks every `/vip` command with the dispatcher's
 * ephemeral answer (the dispatcher queues slow work first, so the ack stays well under Slack's 3 s).
 */
import { answerRoute } from '../http-routes.ts';
import { App, HTTPReceiver, SocketModeReceiver, type Receiver } from '@slack/bolt';
import { LogLevel, type Logger as SlackLogger } from '@slack/logger';
import type { RequestFlow } from '../approvals/request-flow.ts';
import type { CommandDispatcher } from '../commands/dispatch.ts';
import type { Logger } from '../logger.ts';
import type { ReplayMemory } from './replay-guard.ts';
import { guardSlackEndpoint, MAX_SLACK_BODY_BYTES } from './slack-ingress.ts';
import { checkSlashCommandBody } from './slash-command-body.ts';

export type BoltApp = App;

export interface BoltAppOptions {
  token: string;
  /** SLACK_API_URL: Enterprise proxies, GovSlack, or the local stand-in. */
  apiUrl?: string;
  receiver: Receiver;
  dispatcher: CommandDispatcher;
  /** Approvals by reaction; absent = reactions are ignored. */
  flow?: RequestFlow;
  logger: Logger;
  /** Known up front (console, tests) to skip auth.test; otherwise Bolt learns it with auth.test. */
  botUserId?: string;
}

export function createBoltApp(options: BoltAppOptions): BoltApp {
  const app = new App({
    token: options.token,
    receiver: options.receiver,
    logger: toSlackLogger(options.logger.child({ component: 'bolt' })),
    // Bolt ignores the bot's own events (botUserId, from auth.test) so it never reacts to itself.
    ignoreSelf: true,
    // No conversation state is kept between messages; Bolt's store would do work on every request.
    convoStore: false,
    ...(options.botUserId ? { botUserId: options.botUserId, botId: 'B0VIPBOT', tokenVerificationEnabled: false } : {}),
    ...(options.apiUrl ? { clientOptions: { slackApiUrl: options.apiUrl } } : {}),
  });

  app.command(/^\/vip(-[a-z]+)?$/, async ({ command, ack }) => {
    // Bolt's types promise strings; a form body may still carry a field twice (an array) or not at all.
    const checked = checkSlashCommandBody(command);
    if (!checked.ok) {
      options.logger.warn({ problems: checked.problems }, 'slash command body refused');
      await ack({ response_type: 'ephemeral', text: checked.text });
      return;
    }
    const body = checked.body;
    const result = await options.dispatcher.dispatch({
      userId: body.user_id,
      channelId: body.channel_id,
      text: body.text,
      ...(body.response_url ? { responseUrl: body.response_url } : {}),
    });
    await ack({ response_type: 'ephemeral', text: result.text, ...(result.blocks ? { blocks: result.blocks } : {}) });
  });

  const flow = options.flow;
  if (flow) {
    // Bolt acks events before this runs; Slack retries with the same event_id, which the flow dedups.
    app.event('reaction_added', async ({ event, body }) => {
      if (event.item.type !== 'message') return;
      const outcome = await flow.onReaction({
        ...(typeof body.event_id === 'string' ? { eventId: body.event_id } : {}),
        user: event.user,
        reaction: event.reaction,
        channel: event.item.channel,
        ts: event.item.ts,
      });
      if (outcome !== 'not_a_request') options.logger.info({ user: event.user, reaction: event.reaction, outcome }, 'reaction on an approval message');
    });
  }

  app.error(async (error) => {
    options.logger.error({ err: error }, 'unhandled error in Slack handler');
  });
  return app;
}

export interface HttpReceiverOptions {
  signingSecret: string;
  /** Remembers signed requests so one sent twice is refused (RedisReplayMemory over the command-side connection). */
  replayMemory?: ReplayMemory;
  logger: Logger;
  routes: Array<{ path: string; method: 'GET'; handler: () => Promise<{ status: number; contentType: string; body: string }> }>;
}

const SLACK_EVENTS_PATH = '/slack/events';

/**
 * POST /slack/events behind the ingress gate (body bound → 413; bad signature, timestamp over 5 min
 * either way, or a replay → 401), plus GET routes like /healthz.
 */
export function createHttpReceiver(options: HttpReceiverOptions): Receiver {
  const receiver = new HTTPReceiver({
    signingSecret: options.signingSecret,
    endpoints: SLACK_EVENTS_PATH,
    // The gate refuses oversized bodies first; this is Bolt's own backstop at the same bound.
    bodyLimit: MAX_SLACK_BODY_BYTES,
    logger: toSlackLogger(options.logger.child({ component: 'http' })),
    customRoutes: options.routes.map((route) => ({
      path: route.path,
      method: route.method,
      handler: (_req, res) => answerRoute(route.handler, res),
    })),
  });
  guardSlackEndpoint(receiver, SLACK_EVENTS_PATH, {
    signingSecret: options.signingSecret,
    logger: options.logger.child({ component: 'ingress' }),
    ...(options.replayMemory ? { replayMemory: options.replayMemory } : {}),
  });
  return receiver;
}

/**
 * Socket Mode (SLACK_APP_TOKEN): no public URL needed; the GET routes are served on the given port.
 * `apiUrl` (SLACK_API_URL) is where apps.connections.open goes, like every other Web API call.
 */
export function createSocketModeReceiver(
  appToken: string,
  port: number,
  options: Omit<HttpReceiverOptions, 'signingSecret' | 'replayMemory'> & { apiUrl?: string },
): Receiver {
  return new SocketModeReceiver({
    appToken,
    logger: toSlackLogger(options.logger.child({ component: 'socket' })),
    installerOptions: { port, ...(options.apiUrl ? { clientOptions: { slackApiUrl: options.apiUrl } } : {}) },
    customRoutes: options.routes.map((route) => ({
      path: route.path,
      method: route.method,
      handler: (_req, res) => answerRoute(route.handler, res),
    })),
  });
}

/** Bolt's logger interface on top of pino, so one log stream carries everything (and redaction applies). */
export function toSlackLogger(log: Logger): SlackLogger {
  let level: LogLevel = LogLevel.INFO;
  const text = (msg: unknown[]): string => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => log.debug(text(msg)),
    info: (...msg: unknown[]) => log.info(text(msg)),
    warn: (...msg: unknown[]) => log.warn(text(msg)),
    error: (...msg: unknown[]) => log.error(text(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/**
 * The one door to Slack for everything that is not the command ack: jobs post results, update approval
 * messages and upload charts through a Notifier. Tests and the console use the same Slack-backed
 * implementation pointed at a local Web API (SLACK_API_URL).
 */
import type { WebClient } from '@slack/web-api';
import type { KnownBlock, MessageMetadata as SlackMetadata } from '@slack/types';

export interface MessageMetadata { event_type: string; event_payload: Record<string, unknown> }

export interface OutgoingMessage {
  channel: string;
  text: string;
  blocks?: KnownBlock[];
  metadata?: MessageMetadata;
  threadTs?: string;
}

export interface PostedMessage { channel: string; ts: string }

export interface FileUpload {
  channel: string;
  threadTs?: string;
  filename: string;
  title: string;
  altText: string;
  data: Buffer;
  initialComment?: string;
}

/** What jobs may do in Slack. Declares only the methods used. */
export interface Notifier {
  post(message: OutgoingMessage): Promise<PostedMessage>;
  postEphemeral(message: OutgoingMessage & { user: string }): Promise<void>;
  update(message: OutgoingMessage & { ts: string }): Promise<void>;
  addReaction(channel: string, ts: string, name: string): Promise<void>;
  uploadFile(file: FileUpload): Promise<void>;
  /** Answers through a slash command's response_url (works where the bot is not in the channel). */
  respond(responseUrl: string, message: { text: string; blocks?: KnownBlock[]; ephemeral: boolean }): Promise<void>;
}

export function createSlackNotifier(client: WebClient): Notifier {
  return {
    async post(m) {
      const res = await client.chat.postMessage({ channel: m.channel, text: m.text, ...optional(m), unfurl_links: false });
      return { channel: String(res.channel ?? m.channel), ts: String(res.ts) };
    },
    async postEphemeral(m) {
      await client.chat.postEphemeral({ channel: m.channel, user: m.user, text: m.text, ...optional(m) });
    },
    async update(m) {
      await client.chat.update({ channel: m.channel, ts: m.ts, text: m.text, ...optional(m) });
    },
    async addReaction(channel, ts, name) {
      await client.reactions.add({ channel, timestamp: ts, name });
    },
    async uploadFile(f) {
      await client.files.uploadV2({
        channel_id: f.channel,
        thread_ts: f.threadTs,
        file: f.data,
        filename: f.filename,
        title: f.title,
        alt_text: f.altText,
        initial_comment: f.initialComment,
      } as Parameters<WebClient['files']['uploadV2']>[0]);
    },
    async respond(responseUrl, m) {
      const res = await fetch(responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: m.text, blocks: m.blocks, response_type: m.ephemeral ? 'ephemeral' : 'in_channel', replace_original: false }),
      });
      if (!res.ok) throw new Error(`response_url answered ${res.status}`);
    },
  };
}

/** Slack's types want optional fields absent rather than undefined. */
function optional(m: OutgoingMessage): { blocks?: KnownBlock[]; metadata?: SlackMetadata; thread_ts?: string } {
  return {
    ...(m.blocks ? { blocks: m.blocks } : {}),
    ...(m.metadata ? { metadata: m.metadata as SlackMetadata } : {}),
    ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
  };
}

/**
 * A Bolt receiver for the terminal: each line typed becomes a slash command (or, later, a reaction)
 * fed to the same Bolt app Slack would drive, and the answers are printed. The bot's Web API calls go
 * to the local Web API stand-in, which the console prints as messages.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Receiver } from '@slack/bolt';
import type { BoltApp } from './bolt-app.ts';
import type { LocalWebApi, RecordedCall } from './local-web-api.ts';
import { blocksToText, toTerminalText } from './blocks-to-text.ts';
import { parseConsoleLine } from './console-commands.ts';

export interface ConsoleReceiverOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  webApi: LocalWebApi;
  channelId: string;
  userId: string;
  /** The config's access lists: `as @lead` / `as @oper` pick the first of each. */
  approvers: readonly string[];
  operators: readonly string[];
  /** Called when the input ends (Ctrl-D) or `/quit` is typed. */
  onClose?: () => void;
  /** Where uploaded files (the memory chart) are saved so they can be opened; default <tmpdir>/vipbot-charts. */
  chartDir?: string;
}

export class ConsoleReceiver implements Receiver {
  private app?: BoltApp;
  private rl?: Interface;
  private userId: string;
  private readonly printCall = (call: RecordedCall): void => {
    const text = call.method === 'files.completeUploadExternal' ? this.saveUploads(call) : renderCall(call);
    if (text) this.print(text);
  };

  constructor(private readonly options: ConsoleReceiverOptions) {
    this.userId = options.userId;
  }

  init(app: BoltApp): void {
    this.app = app;
  }

  async start(): Promise<void> {
    this.options.webApi.on('call', this.printCall);
    this.rl = createInterface({ input: this.options.input, output: this.options.output, terminal: false });
    this.print([
      `vipbot console — you are ${this.userId} in ${this.options.channelId}.`,
      'Type /vip help. Approve a request with ":white_check_mark: <request-id> as @lead", reject with ":x: <request-id>".',
      '"/as U0…" (or /as @lead, /as @oper) acts as another user; /quit leaves.',
    ].join('\n'));
    this.prompt();
    this.rl.on('line', (line) => {
      this.handleLine(line.trim()).catch((err: unknown) => this.print(`error: ${String(err)}`)).finally(() => this.prompt());
    });
    this.rl.on('close', () => this.options.onClose?.());
  }

  async stop(): Promise<void> {
    this.options.webApi.off('call', this.printCall);
    this.rl?.close();
  }

  /** A terminal cannot show a PNG: write what was uploaded to a file and print its path. */
  private saveUploads(call: RecordedCall): string {
    const files = Array.isArray(call.args.files) ? (call.args.files as Array<{ id?: string; title?: string }>) : [];
    const dir = this.options.chartDir ?? join(tmpdir(), 'vipbot-charts');
    const thread = call.args.thread_ts ? '  ↳ (thread) ' : '';
    return files.map((f) => {
      const title = String(f.title ?? f.id ?? 'file');
      const raw = f.id ? this.options.webApi.uploads.get(f.id) : undefined;
      const data = raw ? fileFromUploadBody(raw) : undefined;
      if (!data) return `${thread}[vipbot uploaded "${title}" (content not received)]`;
      const ext = data.subarray(0, 8).equals(PNG_SIGNATURE) ? 'png' : 'bin';
      const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'file';
      const path = join(dir, `${slug}-${f.id}.${ext}`);
      try {
        mkdirSync(dir, { recursive: true });
        writeFileSync(path, data);
      } catch (err) {
        return `${thread}[vipbot uploaded "${title}"; could not save it to ${path}: ${(err as Error).message}]`;
      }
      return `${thread}[vipbot uploaded "${title}" → ${path} (${Math.round(data.length / 1024)} KiB)]`;
    }).join('\n');
  }

  private prompt(): void {
    this.options.output.write(`${this.userId}> `);
  }

  private print(text: string): void {
    this.options.output.write(`\n${text}\n`);
  }

  private async handleLine(line: string): Promise<void> {
    if (line === '/quit' || line === '/exit') {
      this.rl?.close();
      return;
    }
    const parsed = parseConsoleLine(line, { currentUser: this.userId, approvers: this.options.approvers, operators: this.options.operators });
    switch (parsed.kind) {
      case 'empty':
        return;
      case 'switch_user':
        this.userId = parsed.userId;
        this.print(`now acting as ${this.userId}`);
        return;
      case 'command':
        await this.dispatchCommand(parsed.command, parsed.text);
        return;
      case 'reaction':
        await this.dispatchReaction(parsed.requestId, parsed.reaction, parsed.userId);
        return;
      case 'unknown':
        this.print(parsed.hint);
        return;
    }
  }

  /** Finds the approval message of a request among the messages the bot posted here. */
  private findApprovalMessage(requestId: string): { channel: string; ts: string } | undefined {
    for (const call of [...this.options.webApi.calls].reverse()) {
      const meta = call.args.metadata as { event_type?: string; event_payload?: { request_id?: string } } | undefined;
      if (call.method === 'chat.postMessage' && call.ts && meta?.event_type === 'vip_request' && meta.event_payload?.request_id === requestId) {
        return { channel: String(call.args.channel), ts: call.ts };
      }
    }
    return undefined;
  }

  /** A reaction typed as text becomes the reaction_added event Slack would send. */
  private async dispatchReaction(requestId: string, reaction: string, userId: string): Promise<void> {
    if (!this.app) throw new Error('console receiver not initialised');
    const message = this.findApprovalMessage(requestId);
    if (!message) {
      this.print(`No approval message for request ${requestId} in this console session.`);
      return;
    }
    this.print(`(${userId} reacted :${reaction}: on request ${requestId})`);
    await this.app.processEvent({
      body: {
        type: 'event_callback',
        team_id: 'T0LOCAL',
        api_app_id: 'A0VIPBOT',
        event_id: `Ev${Date.now().toString(36).toUpperCase()}${Math.random().toString(36).slice(2, 6).toUpperCase()}`,
        event_time: Math.floor(Date.now() / 1000),
        event: { type: 'reaction_added', user: userId, reaction, item: { type: 'message', channel: message.channel, ts: message.ts }, item_user: 'U0VIPBOT', event_ts: String(Date.now() / 1000) },
      },
      ack: async () => {},
    });
  }

  private async dispatchCommand(command: string, text: string): Promise<void> {
    if (!this.app) throw new Error('console receiver not initialised');
    let acked = false;
    await this.app.processEvent({
      body: {
        type: 'slash_command',
        command,
        text,
        user_id: this.userId,
        user_name: this.userId.toLowerCase(),
        channel_id: this.options.channelId,
        channel_name: 'console',
        team_id: 'T0LOCAL',
        api_app_id: 'A0VIPBOT',
        response_url: this.options.webApi.responseUrl,
        trigger_id: `console.${Date.now()}`,
        token: 'console',
      },
      ack: async (response?: unknown) => {
        if (acked) return;
        acked = true;
        const r = response as { text?: string; blocks?: unknown[] } | undefined;
        if (r?.text || r?.blocks) this.print(`(only you) ${toTerminalText(r.blocks ? blocksToText(r.blocks) : (r.text ?? ''))}`);
      },
    });
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The file inside what a client POSTed to a files.getUploadURLExternal URL: @slack/web-api sends
 * multipart/form-data with one part; other clients send the bytes as they are.
 */
export function fileFromUploadBody(raw: Buffer): Buffer {
  const firstLineEnd = raw.indexOf('\r\n');
  if (!raw.subarray(0, 2).equals(Buffer.from('--')) || firstLineEnd < 0) return raw;
  const boundary = raw.subarray(0, firstLineEnd);
  const start = raw.indexOf('\r\n\r\n', firstLineEnd);
  const end = raw.indexOf(Buffer.concat([Buffer.from('\r\n'), boundary]), start);
  return start < 0 || end < 0 ? raw : raw.subarray(start + 4, end);
}

function renderCall(call: RecordedCall): string {
  const a = call.args;
  const body = (): string => toTerminalText(Array.isArray(a.blocks) ? blocksToText(a.blocks) : String(a.text ?? ''));
  switch (call.method) {
    case 'chat.postMessage':
      return `${a.thread_ts ? '  ↳ (thread) ' : ''}[vipbot] ${body()}`;
    case 'chat.postEphemeral':
      return `(only ${String(a.user)}) ${body()}`;
    case 'chat.update':
      return `[vipbot, edited ${String(a.ts)}] ${body()}`;
    case 'response_url':
      return `(only you) ${body()}`;
    case 'reactions.add':
      return `[vipbot reacted :${String(a.name)}: on ${String(a.timestamp)}]`;
    case 'files.completeUploadExternal':
      return `[vipbot uploaded a file]`;
    default:
      return '';
  }
}

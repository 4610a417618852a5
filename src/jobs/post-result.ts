import type { Logger } from '../logger.ts';
import type { MessageMetadata, Notifier, PostedMessage } from '../slack/notifier.ts';
import type { KnownBlock } from '@slack/types';
import type { ReplyTarget } from './reply-target.ts';

/**
 * Posts a job's result in the channel it was asked from. When the bot is not a member there
 * (`not_in_channel`, `channel_not_found` for private channels), falls back to the slash command's
 * response_url so the person still gets the answer, with a hint to invite the bot.
 */
export async function postResult(
  notifier: Notifier,
  reply: ReplyTarget,
  message: { text: string; blocks: KnownBlock[]; metadata?: MessageMetadata },
  log: Logger,
): Promise<PostedMessage | undefined> {
  try {
    return await notifier.post({ channel: reply.channel, ...message, ...(reply.threadTs ? { threadTs: reply.threadTs } : {}) });
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if ((code === 'not_in_channel' || code === 'channel_not_found') && reply.responseUrl) {
      log.warn({ channel: reply.channel, code }, 'bot not in channel; answering through response_url');
      const hint = ':information_source: Invite the bot to this channel (`/invite @vipbot`) so results are posted for everyone.';
      await notifier.respond(reply.responseUrl, { text: `${message.text}\n${hint}`, blocks: [...message.blocks, { type: 'context', elements: [{ type: 'mrkdwn', text: hint }] }], ephemeral: true });
      return undefined;
    }
    throw err;
  }
}

import type { Logger } from '../logger.ts';
import type { Notifier } from '../slack/notifier.ts';
import type { ReplyTarget } from './reply-target.ts';

/**
 * A private answer to whoever typed the command: ephemeral in the channel, or through the command's
 * response_url when the bot cannot post there.
 */
export async function tellRequester(notifier: Notifier, reply: ReplyTarget, text: string, log: Logger): Promise<void> {
  try {
    await notifier.postEphemeral({ channel: reply.channel, user: reply.userId, text });
  } catch (err) {
    if (!reply.responseUrl) throw err;
    log.warn({ err }, 'ephemeral failed; answering through response_url');
    await notifier.respond(reply.responseUrl, { text, ephemeral: true });
  }
}

/**
 * Turns `/vip …` text into an ephemeral answer, queueing a job when the command needs hosts. Order:
 * grammar → command → channel → access → arguments → handle → queue. Every refusal says what would
 * work and goes only to the person who typed it.
 */
import type { KnownBlock } from '@slack/types';
import type { AccessControl } from '../access/access-control.ts';
import type { VipbotConfig } from '../config/config.ts';
import { describeError, isVipbotError, VipbotError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { ReplyTarget } from '../jobs/reply-target.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import type { AnyCommand, CommandInput } from './command.ts';
import { tokeniseCommandText } from './tokenise.ts';

export interface DispatchResult {
  command: string;
  outcome: 'replied' | 'queued' | 'refused' | 'failed';
  /** Ephemeral answer for the ack. */
  text: string;
  blocks?: KnownBlock[];
  jobId?: string;
  errorCode?: string;
}

export interface DispatcherDeps {
  config: VipbotConfig;
  commands: readonly AnyCommand[];
  access: AccessControl;
  queue: JobQueue;
  logger: Logger;
  metrics?: Metrics;
}

/** The `command` label for anything that is not a registered command name. */
export const UNKNOWN_COMMAND_LABEL = 'unknown';

export class CommandDispatcher {
  /** Metric labels come only from this closed set (plus `unknown`): typed names must not grow /metrics. */
  private readonly commandLabels: ReadonlySet<string>;

  constructor(private readonly deps: DispatcherDeps) {
    this.commandLabels = new Set(deps.commands.map((c) => c.name));
  }

  async dispatch(input: CommandInput & { text: string }): Promise<DispatchResult> {
    const result = await this.run(input);
    const command = this.commandLabels.has(result.command) ? result.command : UNKNOWN_COMMAND_LABEL;
    this.deps.metrics?.commands.inc({ command, outcome: result.outcome });
    return result;
  }

  private async run(input: CommandInput & { text: string }): Promise<DispatchResult> {
    const { config, commands, access, queue, logger } = this.deps;
    let name = 'unknown';
    try {
      const tokens = tokeniseCommandText(input.text);
      name = (tokens[0] ?? 'help').toLowerCase();
      const command = commands.find((c) => c.name === name);
      if (!command) {
        throw new VipbotError('unknown_command', `There is no \`/vip ${name}\` command.`, `Try one of: ${commands.map((c) => `\`${c.name}\``).join(', ')} — or \`/vip help\`.`);
      }
      if (!access.isChannelAllowed(input.channelId)) {
        throw new VipbotError('channel_not_allowed', 'vipbot does not take commands in this channel.', `Use ${access.allowedChannels.map((c) => `<#${c}>`).join(', ')}.`);
      }
      if (command.access !== 'anyone' && !(await access.isAllowed(command.access, input.userId))) {
        throw new VipbotError('not_allowed', `\`/vip ${command.name}\` is for ${command.access} only and you are not on that list.`, 'Ask the vipbot admins to add you (access.' + command.access + ' in vipbot.yaml).');
      }
      const args: unknown = command.parseArgs(tokens.slice(1), config);
      const outcome = command.handle(args, input, config);
      if (outcome.kind === 'reply') return { command: name, outcome: 'replied', text: outcome.text, ...(outcome.blocks ? { blocks: outcome.blocks } : {}) };
      const reply = this.replyTarget(input, name);
      const { id } = await queue.enqueue({ ...outcome.job, data: { ...outcome.job.data, reply } });
      logger.info({ command: name, jobId: id, user: input.userId, channel: input.channelId }, 'command queued');
      return { command: name, outcome: 'queued', text: outcome.ack, jobId: id };
    } catch (err) {
      if (isVipbotError(err)) {
        return { command: name, outcome: 'refused', text: `:warning: ${err.toUserText()}`, errorCode: err.code };
      }
      logger.error({ err, command: name }, 'command failed');
      return { command: name, outcome: 'failed', text: `:x: vipbot could not take that command: ${describeError(err)}. Try again; if it persists, check the bot's logs.`, errorCode: 'internal' };
    }
  }

  /**
   * The reply target checked with the worker's own schema before queueing: a job the worker would
   * drop (no reply, no log) is refused here, logged, and the person told.
   */
  private replyTarget(input: CommandInput, command: string): ReplyTarget {
    const candidate = { channel: input.channelId, userId: input.userId, ...(input.responseUrl ? { responseUrl: input.responseUrl } : {}) };
    const parsed = ReplyTarget.safeParse(candidate);
    if (parsed.success) return parsed.data;
    const fields = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))];
    // Clipped: what failed the schema is untrusted and may be long.
    const seen = { user: input.userId.slice(0, 40), channel: input.channelId.slice(0, 40) };
    this.deps.logger.warn({ command, fields, ...seen }, 'reply target refused; nothing queued');
    throw new VipbotError(
      'bad_reply_target',
      `vipbot could not queue this: it would have nowhere valid to post the result (bad ${fields.map((f) => `\`${f}\``).join(', ')}).`,
      'Run the command from a Slack channel or DM (channel C…/G…/D…, user U…/W…, a response URL); ' +
        'if it keeps happening, check what sits between Slack and vipbot.',
    );
  }
}

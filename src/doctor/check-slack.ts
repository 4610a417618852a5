/**
 * Slack checks: the bot token works (`auth.test`) and the bot is a member of every channel the config
 * posts to or takes commands in (a post to a channel the bot is not in fails with `not_in_channel`).
 */
import { fail, pass, warn, type CheckGroup, type CheckResult } from './doctor.ts';

/** The Web API calls this needs (a WebClient fits). */
export interface SlackProbe {
  auth: { test(): Promise<{ ok?: boolean; user?: string; team?: string; user_id?: string }> };
  conversations: { info(args: { channel: string }): Promise<{ ok?: boolean; channel?: { is_member?: boolean; name?: string } }> };
}

/** Channels the config names, each with why the bot needs it. */
export function configuredChannels(config: {
  access: { channels: readonly string[] };
  memory: { dailySummary?: { channel?: string | undefined } | undefined };
}): Map<string, string> {
  const channels = new Map<string, string>();
  for (const c of config.access.channels) channels.set(c, 'access.channels');
  const daily = config.memory.dailySummary?.channel;
  if (daily) channels.set(daily, channels.has(daily) ? `${channels.get(daily)}, memory.dailySummary.channel` : 'memory.dailySummary.channel');
  return channels;
}

export function slackChecks(slack: SlackProbe | undefined, channels: Map<string, string>): CheckGroup {
  return {
    name: 'slack',
    async run(): Promise<CheckResult[]> {
      if (!slack) return [fail('slack token', 'SLACK_BOT_TOKEN is not set', 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from OAuth & Permissions')];
      try {
        const me = await slack.auth.test();
        const results: CheckResult[] = [pass('slack token', `auth.test: ${me.user ?? me.user_id ?? 'bot'} in ${me.team ?? 'the workspace'}`)];
        for (const [channel, why] of channels) results.push(await channelCheck(slack, channel, why));
        return results;
      } catch (err) {
        return [fail('slack token', `auth.test failed: ${slackError(err)}`, 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) of the installed app; reinstall the app if it was revoked')];
      }
    },
  };
}

async function channelCheck(slack: SlackProbe, channel: string, why: string): Promise<CheckResult> {
  const name = `slack channel ${channel}`;
  try {
    const res = await slack.conversations.info({ channel });
    const label = res.channel?.name ? `#${res.channel.name}` : channel;
    if (res.channel?.is_member) return pass(name, `the bot is in ${label} (${why})`);
    return fail(name, `the bot is not a member of ${label} (${why}): posts there fail with not_in_channel`, `invite it: /invite @vipbot in ${label}`);
  } catch (err) {
    const code = slackError(err);
    if (code === 'missing_scope') return warn(name, `cannot check membership: the token lacks channels:read/groups:read (${why})`, 'add the scopes from slack-app-manifest.yml and reinstall the app');
    return fail(name, `conversations.info failed: ${code} (${why})`, code === 'channel_not_found' ? `check the channel id ${channel} in vipbot.yaml (${why})` : 'check the channel id and the bot token');
  }
}

function slackError(err: unknown): string {
  const data = (err as { data?: { error?: unknown } } | null)?.data;
  if (data && typeof data.error === 'string') return data.error;
  return err instanceof Error ? err.message : String(err);
}

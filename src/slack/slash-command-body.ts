/**
 * The fields of a slash-command body vipbot reads, checked before anything uses them. A form body can
 * carry a field twice (it parses to an array) or not at all; both get an answer that says what was
 * wrong, not `text.trim is not a function`.
 */
import { z } from 'zod';
import { ReplyTarget } from '../jobs/reply-target.ts';

export const SlashCommandBody = z.object({
  text: z.string(),
  // The same id rules the worker applies to the reply target, so what passes here can be queued.
  user_id: ReplyTarget.shape.userId,
  channel_id: ReplyTarget.shape.channel,
  response_url: z.string().optional(),
});
export type SlashCommandBody = z.infer<typeof SlashCommandBody>;

const EXPECTED: Record<string, string> = {
  text: 'the command text',
  user_id: 'a user id (U… or W…)',
  channel_id: 'a channel id (C…, G… or D…)',
  response_url: 'a URL',
};

export type SlashCommandCheck = { ok: true; body: SlashCommandBody } | { ok: false; text: string; problems: string[] };

/** Validates `raw`; on failure, an ephemeral answer naming each bad field and what would work. */
export function checkSlashCommandBody(raw: unknown): SlashCommandCheck {
  const parsed = SlashCommandBody.safeParse(raw);
  if (parsed.success) return { ok: true, body: parsed.data };
  const fields = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const names = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? 'body')))];
  const problems = names.map((name) => describeField(name, fields[name]));
  const text =
    `:warning: vipbot could not read this command: ${problems.join('; ')}. ` +
    'Type it again as `/vip <command> [arguments]`, e.g. `/vip status`; ' +
    'if this keeps happening, something between Slack and vipbot is changing requests.';
  return { ok: false, text, problems };
}

function describeField(name: string, value: unknown): string {
  const expected = EXPECTED[name] ?? 'a value';
  if (value === undefined) return `\`${name}\` is missing (expected ${expected})`;
  if (Array.isArray(value)) return `\`${name}\` was sent ${value.length} times (expected it once, ${expected})`;
  if (typeof value !== 'string') return `\`${name}\` is not text (expected ${expected})`;
  return `\`${name}\` is not ${expected}`;
}

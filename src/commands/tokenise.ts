import { VipbotError } from '../errors.ts';

/** Every token of `/vip …` text must match this: names, windows, ids. No shell or Slack markup gets through. */
const TOKEN = /^(?:[A-Za-z0-9][A-Za-z0-9_.:+-]{0,62}|--[a-z][a-z-]{0,30})$/;
const MAX_TOKENS = 8;

/**
 * Splits command text into tokens and refuses anything outside the strict grammar before any other
 * code sees it — node names and windows never reach a shell, but nothing odd gets past here either.
 */
export function tokeniseCommandText(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const tokens = trimmed.split(/\s+/);
  if (tokens.length > MAX_TOKENS) {
    throw new VipbotError('bad_arguments', `Too many words (${tokens.length}).`, 'Try `/vip help` for the commands and their arguments.');
  }
  for (const token of tokens) {
    if (!TOKEN.test(token)) {
      const shown = token.length > 40 ? `${token.slice(0, 40)}…` : token;
      throw new VipbotError(
        'bad_arguments',
        `\`${shown.replace(/`/g, "'")}\` is not a valid name or value.`,
        'Names use letters, digits, `_`, `.`, `-`; try `/vip help`.',
      );
    }
  }
  return tokens;
}

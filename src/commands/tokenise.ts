import { VipbotError } from '../errors.ts';

/** Every token of `/vip …` text must match this: names, windows, ids. No shell or Slack markup gets through. */
const TOKEN = /^(?:[A-Za-z0-9][A-Za-z0-9_.:+-]{0,62}|--[a-z][a-z-]{0,30})$/;
const MAX_TOKENS = 8;
/** MAX_TOKENS tokens of at most 63 characters with room for extra spaces; anything longer is not a command. */
export const MAX_COMMAND_TEXT_CHARS = 1000;

/**
 * Splits command text into tokens and refuses anything outside the strict grammar before any other
 * code sees it — node names and windows never reach a shell, but nothing odd gets past here either.
 */
export function tokeniseCommandText(text: string): string[] {
  // Length first: trimming, splitting and matching megabytes would block the event loop for nothing.
  if (text.length > MAX_COMMAND_TEXT_CHARS) {
    throw new VipbotError(
      'bad_arguments',
      `That command text is ${text.length.toLocaleString('en-US')} characters long; \`/vip\` takes at most ${MAX_COMMAND_TEXT_CHARS}.`,
      'Commands are a name and a few words, e.g. `/vip status node1` — try `/vip help`.',
    );
  }
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

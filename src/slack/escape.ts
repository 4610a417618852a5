/**
 * The one place text from hosts and people is made safe for Slack mrkdwn (issue 8 item 6, SPEC §8):
 * every renderer that shows a host's output, an error, a config value or a person's words goes
 * through here, so a host cannot post a mention, a disguised link or formatting of its choosing.
 *
 * Slack parses `&`, `<` and `>` as control characters everywhere, code included; those are escaped as
 * HTML entities (the only three Slack decodes). mrkdwn has no escape for `*` `_` `~` and backticks, so
 * in running text they are swapped for look-alikes (as jsx-slack's `<Escape>` does); a zero-width
 * space would not do, Slack treats it as a word break and formats around it.
 */

/**
 * Escapes the three characters Slack treats as markup in every text object, code blocks included:
 * a `<` in host output would otherwise start a link or a mention.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Host or people text placed inside a ``` code block (diffs, command output): escaped, and any triple
 * backtick broken with zero-width spaces, since a stray fence would open or close a code block and
 * swallow the rest of the section. Formatting characters are literal inside a code block.
 */
export function escapeHost(text: string): string {
  return escapeMrkdwn(text).replace(/```/g, '`\u200b`\u200b`');
}

/** Look-alikes for the characters that start or end mrkdwn formatting. */
const LOOK_ALIKE: Record<string, string> = {
  '*': '\u2217', // ∗ asterisk operator
  '~': '\u223c', // ∼ tilde operator
  '`': '\u02cb', // ˋ modifier letter grave accent
  '_': '\u02cd', // ˍ modifier letter low macron
};

/** `@channel`, `@here` and `@everyone` typed as plain words: Slack's automatic parsing may notify with them. */
const BROADCAST_WORD = /@(channel|here|everyone)\b/gi;

/**
 * Host or people text in running mrkdwn (warnings, node errors, check messages, config values, or
 * inside an inline `code` span): escaped like {@link escapeMrkdwn}, and the formatting characters
 * replaced by look-alikes. An `_` between two letters or digits is kept: Slack never formats inside a
 * word, and identifiers such as `VI_PRIMARY` or `chk_oracle` must read as typed. A `>` that starts a
 * line would quote it, so it gets an invisible soft hyphen in front; broadcast words get a word joiner.
 */
export function escapeHostText(text: string): string {
  return escapeMrkdwn(text)
    .replace(/[*~`]/g, (c) => LOOK_ALIKE[c]!)
    .replace(/_/g, (c, at: number, all: string) => (isWordChar(all[at - 1]) && isWordChar(all[at + 1]) ? c : LOOK_ALIKE[c]!))
    .replace(/^([ \t]*)(&gt;|\uff1e)/gm, '$1\u00ad$2')
    .replace(BROADCAST_WORD, '@\u2060$1');
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9]/.test(c);
}

/**
 * What Slack shows for escaped text: `&lt;` `&gt;` `&amp;` decoded in one pass (so `&amp;lt;` stays
 * `&lt;`), nothing else — Slack decodes only these three. For the terminal console.
 */
export function unescapeMrkdwn(text: string): string {
  return text.replace(/&(amp|lt|gt);/g, (_whole, name: string) => (name === 'amp' ? '&' : name === 'lt' ? '<' : '>'));
}

/**
 * The one place text from hosts and people is made safe for Slack mrkdwn (issue 8 item 6): every
 * renderer that shows a host's output, an error, a config value or a person's words goes through here.
 */

/**
 * Escapes the three characters Slack treats as markup in every text object, code blocks included:
 * a `<` in host output would otherwise start a link or a mention.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Text that came from a host or a person (check messages, errors, diffs): escaped, and any triple
 * backtick broken with zero-width spaces, since a stray fence would open or close a code block and
 * swallow the rest of the section.
 */
export function escapeHost(text: string): string {
  return escapeMrkdwn(text).replace(/```/g, '`\u200b`\u200b`');
}

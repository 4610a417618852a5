/** Test helper: what in a mrkdwn text Slack would act on, for asserting host text arrives inert. */

/**
 * Markup Slack would act on: a link, mention or broadcast (`<…>` other than a date), a broadcast word,
 * a quote at a line start, and `*` `_` `~` formatting around words. Pass only text that should carry no
 * markup of the bot's own (the bot's bold names would count).
 */
export function liveMarkup(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/<[^>]*>/g)) if (!/^<!date\^/.test(m[0])) found.push(m[0]);
  for (const m of text.matchAll(/@(channel|here|everyone)\b/gi)) found.push(m[0]);
  for (const m of text.matchAll(/^[ \t]*(&gt;|>)/gm)) found.push(m[0]);
  for (const m of text.matchAll(/(^|[^A-Za-z0-9])([*_~])[^\s*_~][^*_~\n]*?\2(?=$|[^A-Za-z0-9])/gm)) found.push(m[0].trim());
  return found;
}

/** The `<…>` sequences and broadcast words only: for whole rendered messages, where the bot's own bold is expected. */
export function liveMentionsAndLinks(text: string): string[] {
  return liveMarkup(text).filter((m) => m.startsWith('<') || m.startsWith('@'));
}

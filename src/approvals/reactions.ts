/**
 * Which emoji reactions approve or reject a request (SPEC §5.3). Slack names one emoji several ways:
 * a `reaction_added` event carries the skin tone glued to the name (`+1::skin-tone-3`), and some emoji
 * have aliases (`thumbsup` is `+1`). Both the configured names and the event's name are brought to one
 * canonical form before comparing, so config `thumbsup` matches an event `+1::skin-tone-2`.
 */

/**
 * Aliases Slack accepts for the same emoji, mapped to the name Slack itself sends in events. Only real
 * aliases belong here: `heavy_check_mark`, `white_check_mark` and `ballot_box_with_check` look alike
 * but are distinct emoji, and so are `x` and `negative_squared_cross_mark`.
 */
const ALIASES: Readonly<Record<string, string>> = {
  thumbsup: '+1',
  thumbsdown: '-1',
};

/** `::skin-tone-2` … `::skin-tone-6`, as Slack appends it to the base name in reaction events. */
const SKIN_TONE = /::skin-tone-\d+$/;

/** The reactions a request can be answered with; the shape of `access` in the config. */
export interface ReactionAccess {
  approveReactions: readonly string[];
  rejectReactions: readonly string[];
}

/** What a reaction means for an approval message. */
export type ReactionKind = 'approve' | 'reject' | 'other';

/**
 * The canonical name of a reaction: colons around it removed (as typed in the console), skin tone
 * stripped, aliases resolved, lower case (Slack's emoji names are lower case).
 */
export function normaliseReaction(name: string): string {
  let n = name.trim().toLowerCase();
  if (n.length > 2 && n.startsWith(':') && n.endsWith(':')) n = n.slice(1, -1);
  n = n.replace(SKIN_TONE, '');
  return ALIASES[n] ?? n;
}

/**
 * Whether a reaction approves, rejects, or means nothing here. A name configured as both approve and
 * reject counts as reject: an ambiguous reaction must never run a change.
 */
export function classifyReaction(name: string, access: ReactionAccess): ReactionKind {
  const n = normaliseReaction(name);
  if (access.rejectReactions.some((r) => normaliseReaction(r) === n)) return 'reject';
  if (access.approveReactions.some((r) => normaliseReaction(r) === n)) return 'approve';
  return 'other';
}

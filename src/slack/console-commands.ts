/**
 * What a line typed in `vipbot console` means. Slack delivers approvals as `reaction_added` events,
 * which a terminal cannot produce, so the console accepts a reaction typed as text
 * (`:white_check_mark: abc123 as @lead`) and the receiver turns it into the same event Slack would send.
 * Pure: the receiver owns the current user and does the switching and dispatching.
 */

/** Who the console can act as; `approvers`/`operators` are the config's access lists. */
export interface ConsoleContext {
  currentUser: string;
  approvers: readonly string[];
  operators: readonly string[];
}

/** A parsed console line. */
export type ConsoleLine =
  /** React to the approval message of `requestId` as `userId`; `reaction` is the name without colons, as Slack sends it. */
  | { kind: 'reaction'; reaction: string; requestId: string; userId: string }
  /** Act as another user from now on (`/as U0…`, `/as @lead`). */
  | { kind: 'switch_user'; userId: string }
  /** A slash command for the Bolt app, e.g. `{ command: '/vip', text: 'status orcl' }`. */
  | { kind: 'command'; command: string; text: string }
  /** Nothing typed. */
  | { kind: 'empty' }
  /** Not understood; `hint` says what would work. */
  | { kind: 'unknown'; hint: string };

const REACTION_EXAMPLE = '`:white_check_mark: <request-id> as @lead` approves, `:x: <request-id>` rejects';
const WHO_HINT = 'use a Slack user id (`U0…`), `@lead` (first approver) or `@oper` (first operator)';

/** Emoji names as Slack allows them, with the skin-tone suffix a reaction event may carry. */
const REACTION_LINE = /^:([a-z0-9_+'-]+(?:::skin-tone-[2-6])?):(?:\s+(\S+))?(?:\s+(.*))?$/;
const REQUEST_ID = /^[a-z0-9]{6}$/;
/** Users only (U/W): a user group (S…) cannot react. */
const USER_ID = /^@?([UW][A-Z0-9]{2,})$/;
const SLASH = /^(\/[a-z][a-z0-9_-]*)(?:\s+(.*))?$/;

/**
 * Parses one console line: a typed reaction, `/as <who>`, a slash command, or something it cannot use
 * (with a hint). `<who>` is a user id with or without `@`, `@lead` (the first user among the config's
 * approvers) or `@oper` (the first operator); a reaction without `as` comes from the current user.
 */
export function parseConsoleLine(line: string, ctx: ConsoleContext): ConsoleLine {
  const trimmed = line.trim();
  if (trimmed === '') return { kind: 'empty' };

  if (trimmed.startsWith(':')) return parseReactionLine(trimmed, ctx);

  const slash = SLASH.exec(trimmed);
  if (slash?.[1]) {
    const [, command, rest = ''] = slash;
    if (command === '/as') {
      const who = resolveUser(rest.trim(), ctx);
      return 'userId' in who ? { kind: 'switch_user', userId: who.userId } : { kind: 'unknown', hint: `/as: ${who.hint}, e.g. \`/as @lead\`.` };
    }
    return { kind: 'command', command, text: rest.trim() };
  }

  return { kind: 'unknown', hint: `Type a slash command, e.g. \`/vip status\`, or react to a request: ${REACTION_EXAMPLE}.` };
}

function parseReactionLine(line: string, ctx: ConsoleContext): ConsoleLine {
  const m = REACTION_LINE.exec(line);
  if (!m?.[1]) return { kind: 'unknown', hint: `Could not read that reaction: type the emoji name between colons, then the request id — ${REACTION_EXAMPLE}.` };
  const [, reaction, requestId, rest] = m;
  if (!requestId) return { kind: 'unknown', hint: `Which request? Add its id after the emoji: ${REACTION_EXAMPLE}.` };
  if (!REQUEST_ID.test(requestId)) {
    return { kind: 'unknown', hint: `\`${shorten(requestId)}\` is not a request id (six lowercase letters or digits, as shown on the approval message): ${REACTION_EXAMPLE}.` };
  }
  if (rest === undefined) return { kind: 'reaction', reaction, requestId, userId: ctx.currentUser };
  const as = /^as\s+(\S+)$/.exec(rest.trim());
  if (!as?.[1]) return { kind: 'unknown', hint: `After the request id, only \`as <who>\` may follow: ${WHO_HINT}.` };
  const who = resolveUser(as[1], ctx);
  return 'userId' in who ? { kind: 'reaction', reaction, requestId, userId: who.userId } : { kind: 'unknown', hint: `${who.hint}.` };
}

function resolveUser(who: string, ctx: ConsoleContext): { userId: string } | { hint: string } {
  if (who === '') return { hint: `say who: ${WHO_HINT}` };
  const alias = who.toLowerCase();
  if (alias === '@lead' || alias === 'lead') return firstUser(ctx.approvers, 'approvers');
  if (alias === '@oper' || alias === 'oper') return firstUser(ctx.operators, 'operators');
  const user = USER_ID.exec(who);
  if (user?.[1]) return { userId: user[1] };
  return { hint: `\`${shorten(who)}\` is not a user: ${WHO_HINT}` };
}

function firstUser(list: readonly string[], name: string): { userId: string } | { hint: string } {
  const user = list.find((p) => /^[UW]/.test(p));
  return user ? { userId: user } : { hint: `no user id among access.${name} in the config (user groups cannot react); use \`as U0…\`` };
}

function shorten(s: string): string {
  return s.length > 30 ? `${s.slice(0, 30)}…` : s;
}

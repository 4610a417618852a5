import { describe, expect, it } from 'vitest';
import { parseConsoleLine, type ConsoleContext, type ConsoleLine } from '../../../src/slack/console-commands.ts';

const CTX: ConsoleContext = { currentUser: 'U0ONCALL1', approvers: ['S0LEADS', 'U0LEAD1', 'U0LEAD2'], operators: ['U0ONCALL1', 'U0ONCALL2'] };

describe('parseConsoleLine', () => {
  it.each<[string, ConsoleLine]>([
    [':white_check_mark: k3x9q2 as @U0LEAD1', { kind: 'reaction', reaction: 'white_check_mark', requestId: 'k3x9q2', userId: 'U0LEAD1' }],
    [':white_check_mark: k3x9q2 as U0LEAD2', { kind: 'reaction', reaction: 'white_check_mark', requestId: 'k3x9q2', userId: 'U0LEAD2' }],
    [':white_check_mark: k3x9q2 as @lead', { kind: 'reaction', reaction: 'white_check_mark', requestId: 'k3x9q2', userId: 'U0LEAD1' }],
    [':white_check_mark: k3x9q2 as @oper', { kind: 'reaction', reaction: 'white_check_mark', requestId: 'k3x9q2', userId: 'U0ONCALL1' }],
    [':white_check_mark: k3x9q2 as lead', { kind: 'reaction', reaction: 'white_check_mark', requestId: 'k3x9q2', userId: 'U0LEAD1' }],
    [':white_check_mark: k3x9q2', { kind: 'reaction', reaction: 'white_check_mark', requestId: 'k3x9q2', userId: 'U0ONCALL1' }],
    ['  :x:   k3x9q2   as   @W0LEAD9  ', { kind: 'reaction', reaction: 'x', requestId: 'k3x9q2', userId: 'W0LEAD9' }],
    [':x: abc123', { kind: 'reaction', reaction: 'x', requestId: 'abc123', userId: 'U0ONCALL1' }],
    [':+1::skin-tone-3: abc123 as @lead', { kind: 'reaction', reaction: '+1::skin-tone-3', requestId: 'abc123', userId: 'U0LEAD1' }],
    [':thumbsup: abc123', { kind: 'reaction', reaction: 'thumbsup', requestId: 'abc123', userId: 'U0ONCALL1' }],
    ['/as U0LEAD1', { kind: 'switch_user', userId: 'U0LEAD1' }],
    ['/as @U0LEAD1', { kind: 'switch_user', userId: 'U0LEAD1' }],
    ['/as @lead', { kind: 'switch_user', userId: 'U0LEAD1' }],
    ['/as @oper', { kind: 'switch_user', userId: 'U0ONCALL1' }],
    ['/vip status orcl', { kind: 'command', command: '/vip', text: 'status orcl' }],
    ['/vip', { kind: 'command', command: '/vip', text: '' }],
    ['/vip   promote node2  ', { kind: 'command', command: '/vip', text: 'promote node2' }],
    ['/quit', { kind: 'command', command: '/quit', text: '' }],
    ['', { kind: 'empty' }],
    ['   ', { kind: 'empty' }],
  ])('%j', (line, parsed) => {
    expect(parseConsoleLine(line, CTX)).toStrictEqual(parsed);
  });

  it.each<[string, string]>([
    [':white_check_mark:', 'Which request?'],
    [':white_check_mark: K3X9Q2', '`K3X9Q2` is not a request id'],
    [':white_check_mark: k3x9q', '`k3x9q` is not a request id'],
    [':white_check_mark: k3x9q2x', 'is not a request id'],
    [':white_check_mark: k3x9q2 for @lead', 'only `as <who>` may follow'],
    [':white_check_mark: k3x9q2 as', 'only `as <who>` may follow'],
    [':white_check_mark: k3x9q2 as @bob', '`@bob` is not a user'],
    [':white_check_mark: k3x9q2 as S0LEADS', '`S0LEADS` is not a user'],
    [':white_check_mark: k3x9q2 as u0lead1', '`u0lead1` is not a user'],
    [':white check: k3x9q2', 'Could not read that reaction'],
    ['white_check_mark k3x9q2', 'Type a slash command'],
    ['hello', 'Type a slash command'],
    ['/as', '/as: say who'],
    ['/as bob', '/as: `bob` is not a user'],
  ])('%j → unknown (%s)', (line, hint) => {
    const parsed = parseConsoleLine(line, CTX);
    expect(parsed.kind).toBe('unknown');
    expect(parsed.kind === 'unknown' && parsed.hint).toContain(hint);
  });

  it('says when the config has no user to act as', () => {
    const ctx: ConsoleContext = { currentUser: 'U0ME', approvers: ['S0LEADS'], operators: [] };
    expect(parseConsoleLine(':x: abc123 as @lead', ctx)).toStrictEqual({
      kind: 'unknown',
      hint: 'no user id among access.approvers in the config (user groups cannot react); use `as U0…`.',
    });
    expect(parseConsoleLine('/as @oper', ctx)).toStrictEqual({
      kind: 'unknown',
      hint: '/as: no user id among access.operators in the config (user groups cannot react); use `as U0…`, e.g. `/as @lead`.',
    });
  });
});

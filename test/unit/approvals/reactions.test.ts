import { describe, expect, it } from 'vitest';
import { classifyReaction, normaliseReaction } from '../../../src/approvals/reactions.ts';
import { AccessConfig } from '../../../src/config/config.ts';

describe('normaliseReaction', () => {
  it.each([
    ['+1', '+1'],
    ['thumbsup', '+1'],
    ['+1::skin-tone-3', '+1'],
    ['thumbsup::skin-tone-6', '+1'],
    ['-1::skin-tone-2', '-1'],
    ['thumbsdown', '-1'],
    [':white_check_mark:', 'white_check_mark'],
    ['  Heavy_Check_Mark ', 'heavy_check_mark'],
    ['ballot_box_with_check', 'ballot_box_with_check'],
    ['x', 'x'],
    ['negative_squared_cross_mark', 'negative_squared_cross_mark'],
    ['no_entry_sign', 'no_entry_sign'],
    ['raised_hand::skin-tone-4', 'raised_hand'],
    [':', ':'],
  ])('%j → %j', (name, canonical) => {
    expect(normaliseReaction(name)).toBe(canonical);
  });
});

describe('classifyReaction', () => {
  const defaults = AccessConfig.parse({});
  const custom = { approveReactions: ['thumbsup', 'ballot_box_with_check'], rejectReactions: ['thumbsdown::skin-tone-2', 'negative_squared_cross_mark'] };

  it.each([
    [defaults, 'white_check_mark', 'approve'],
    [defaults, 'heavy_check_mark', 'approve'],
    [defaults, '+1', 'approve'],
    [defaults, 'thumbsup', 'approve'],
    [defaults, '+1::skin-tone-5', 'approve'],
    [defaults, 'x', 'reject'],
    [defaults, 'no_entry_sign', 'reject'],
    [defaults, 'ballot_box_with_check', 'other'],
    [defaults, 'negative_squared_cross_mark', 'other'],
    [defaults, '-1', 'other'],
    [defaults, 'eyes', 'other'],
    [custom, '+1::skin-tone-2', 'approve'],
    [custom, 'thumbsup', 'approve'],
    [custom, 'ballot_box_with_check', 'approve'],
    [custom, 'white_check_mark', 'other'],
    [custom, '-1', 'reject'],
    [custom, 'thumbsdown::skin-tone-4', 'reject'],
    [custom, 'negative_squared_cross_mark', 'reject'],
    [custom, 'x', 'other'],
  ] as const)('%#: %s → %s', (access, name, kind) => {
    expect(classifyReaction(name, access)).toBe(kind);
  });

  it('treats a reaction configured both ways as reject, so it never runs a change', () => {
    expect(classifyReaction('thumbsup', { approveReactions: ['+1'], rejectReactions: ['thumbsup'] })).toBe('reject');
  });
});

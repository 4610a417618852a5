import type { Command } from '../src/commands/command.ts';
import { VipbotError } from '../src/errors.ts';

const MAX = 50;

/** `/vip history [n]`: the last n audited actions. */
export const historyCommand: Command<number> = {
  name: 'history',
  usage: 'history [n]',
  summary: `the last n audited actions (default 10, at most ${MAX})`,
  examples: ['/vip history', '/vip history 25'],
  access: 'viewers',
  parseArgs(tokens) {
    const [n, ...extra] = tokens;
    if (n === undefined) return 10;
    if (extra.length > 0 || !/^[0-9]{1,3}$/.test(n) || Number(n) < 1 || Number(n) > MAX) {
      throw new VipbotError('bad_arguments', `\`${n}\` is not a count.`, `Usage: \`/vip history [n]\` with n from 1 to ${MAX}.`);
    }
    return Number(n);
  },
  handle(n) {
    return { kind: 'job', job: { name: 'history', data: { n } }, ack: ':hourglass_flowing_sand: Reading the audit log…' };
  },
};

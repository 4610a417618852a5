import type { Command } from '../src/commands/command.ts';
import { VipbotError } from '../src/errors.ts';

/** `/vip cancel <request-id>`: the requester or an approver withdraws a pending request. */
export const cancelCommand: Command<string> = {
  name: 'cancel',
  usage: 'cancel <request-id>',
  summary: 'withdraw a pending request (requester or approvers)',
  examples: ['/vip cancel k3f9qa'],
  access: 'viewers',
  parseArgs(tokens) {
    const [id, ...extra] = tokens;
    if (!id || extra.length > 0 || !/^[a-z0-9]{6}$/.test(id)) {
      throw new VipbotError('bad_arguments', 'Which request?', 'Usage: `/vip cancel <request-id>` with the 6-character id from the approval message.');
    }
    return id;
  },
  handle(requestId) {
    return { kind: 'job', job: { name: 'cancel-request', data: { requestId } }, ack: `:hourglass_flowing_sand: Cancelling \`${requestId}\`…` };
  },
};

/**
 * Reactions and Slack failures in the request flow (issue 8 item 9): the event id is claimed only
 * once a decision stands, and every failure that used to end in a log line reaches a person.
 */
import { describe, expect, it } from 'vitest';
import { RequestFlow, type RequestFlowDeps } from '../../../src/approvals/request-flow.ts';
import type { TransitionResult } from '../../../src/approvals/request-store.ts';
import type { ChangeRequest, RequestState } from '../../../src/approvals/types.ts';
import { parseConfigText } from '../../../src/config/config.ts';
import { silentLogger } from '../../../src/logger.ts';
import type { Notifier } from '../../../src/slack/notifier.ts';
import { promoteRequest } from './fake-pair.ts';

const CONFIG = parseConfigText(`
access:
  operators: [U0OPER1]
  approvers: [S0LEADS]
clusters:
  - name: orcl
    vips:
      - { name: primary, instance: VI_PRIMARY, address: 198.51.100.100 }
    nodes:
      - { name: node1, host: 198.51.100.1 }
      - { name: node2, host: 198.51.100.2 }
`);
const NOW = Date.parse('2026-11-26T19:30:00Z');

/** One pending request in memory, with Redis's claim-once and compare-and-set semantics. */
type FlowStore = RequestFlowDeps['store'];

class MemoryStore implements FlowStore {
  claimed = new Set<string>();
  constructor(public request: ChangeRequest) {}
  async findByMessage(channel: string, ts: string) { return channel === this.request.channel && ts === this.request.messageTs ? this.request.id : undefined; }
  async claimEvent(id: string) { if (this.claimed.has(id)) return false; this.claimed.add(id); return true; }
  async get(id: string) { return id === this.request.id ? this.request : undefined; }
  async attachMessage() {}
  async transition(id: string, from: readonly RequestState[], to: RequestState, patch: Partial<ChangeRequest> = {}): Promise<TransitionResult> {
    if (!from.includes(this.request.state)) return { ok: false, reason: 'wrong_state', request: this.request };
    this.request = { ...this.request, ...patch, state: to };
    return { ok: true, request: this.request };
  }
}

/** Records what the bot said; `failing` names the Web API methods that answer with an error. */
class RecordingNotifier implements Notifier {
  said: Array<{ method: string; user?: string; thread?: string; text: string }> = [];
  failing = new Set<string>();
  private async call(method: string, entry: { user?: string; thread?: string; text: string }) {
    if (this.failing.has(method)) throw new Error(`An API error occurred: ${method === 'update' ? 'message_not_found' : 'ratelimited'}`);
    this.said.push({ method, ...entry });
  }
  async post(m: { channel: string; text: string; threadTs?: string }) { await this.call('post', { text: m.text, ...(m.threadTs ? { thread: m.threadTs } : {}) }); return { channel: m.channel, ts: '2.2' }; }
  async postEphemeral(m: { user: string; text: string }) { await this.call('postEphemeral', { user: m.user, text: m.text }); }
  async update(m: { text: string }) { await this.call('update', { text: m.text }); }
  async addReaction() {}
  async uploadFile() {}
  async respond() {}
}

function flowWith(options: { lookupFails?: () => boolean } = {}) {
  const request: ChangeRequest = { ...promoteRequest(), state: 'pending', createdAt: NOW - 1000, expiresAt: NOW + 600_000 };
  const store = new MemoryStore(request);
  const notifier = new RecordingNotifier();
  const queued: string[] = [];
  const flow = new RequestFlow({
    config: CONFIG,
    store,
    audit: { append: async () => '1-0' },
    notifier,
    access: {
      isAllowed: async (_role, user) => {
        if (options.lookupFails?.()) throw new Error('An API error occurred: ratelimited');
        return user === 'U0LEAD1';
      },
    },
    scheduler: { enqueueExecution: async (r) => { queued.push(r.id); }, scheduleExpiry: async () => {} },
    logger: silentLogger(),
    now: () => NOW,
  });
  return { flow, store, notifier, queued };
}

const approve = { eventId: 'Ev01', user: 'U0LEAD1', reaction: 'white_check_mark', channel: 'C0VIPOPS', ts: '1.1' };

describe('RequestFlow.onReaction: the event is claimed only once the decision stands', () => {
  it('a failed user-group lookup tells the reactor, claims nothing, and the same event sent again approves', async () => {
    let failures = 1;
    const { flow, store, notifier, queued } = flowWith({ lookupFails: () => failures-- > 0 });
    expect(await flow.onReaction(approve)).toBe('unchecked');
    expect(notifier.said).toEqual([{
      method: 'postEphemeral',
      user: 'U0LEAD1',
      text: 'Could not check your approver rights: An API error occurred: ratelimited — react again in a moment (remove your :white_check_mark: and add it back).',
    }]);
    expect(store.request.state).toBe('pending');
    expect(store.claimed.size).toBe(0);

    expect(await flow.onReaction(approve)).toBe('approved');
    expect(store.request).toMatchObject({ state: 'approved', approvedBy: 'U0LEAD1' });
    expect(queued).toEqual(['abc234']);
    expect(await flow.onReaction(approve)).toBe('duplicate');
    expect(queued).toEqual(['abc234']);
  });

  it('a non-approver is told once; the retry of that event says nothing more', async () => {
    const { flow, notifier } = flowWith();
    const stranger = { ...approve, user: 'U0STRANGER' };
    expect(await flow.onReaction(stranger)).toBe('refused');
    expect(await flow.onReaction(stranger)).toBe('duplicate');
    expect(notifier.said.map((s) => s.method)).toEqual(['postEphemeral']);
  });
});

describe('RequestFlow: Slack failures reach a person instead of a log line', () => {
  it('an ephemeral reply Slack refuses goes to the thread, addressed to the reactor', async () => {
    const { flow, notifier } = flowWith();
    notifier.failing.add('postEphemeral');
    await flow.onReaction({ ...approve, user: 'U0STRANGER' });
    expect(notifier.said).toEqual([{ method: 'post', thread: '1.1', text: expect.stringMatching(/^<@U0STRANGER> Only approvers \(<!subteam\^S0LEADS>\) can approve `abc234`/) }]);
  });

  it('an approval message Slack will not update: the thread gets the current state', async () => {
    const { flow, notifier, store } = flowWith();
    notifier.failing.add('update');
    await flow.refresh({ ...store.request, state: 'failed', outcome: 'failed — nothing was changed on node2: reading the config failed' });
    expect(notifier.said).toEqual([{
      method: 'post',
      thread: '1.1',
      text: ':warning: The message above could not be updated (An API error occurred: message_not_found); ' +
        'request `abc234` is now *failed*: failed — nothing was changed on node2: reading the config failed.',
    }]);
  });

  it('a thread Slack refuses: the requester is told privately once, with the line', async () => {
    const { flow, notifier, store } = flowWith();
    notifier.failing.add('post');
    await flow.thread(store.request, ':x: first');
    await flow.thread(store.request, ':x: second');
    expect(notifier.said).toEqual([{
      method: 'postEphemeral',
      user: 'U0OPER1',
      text: 'Progress of request `abc234` could not be posted in its thread (An API error occurred: ratelimited). Latest: :x: first\n' +
        'Further lines that fail are only logged; the approval message and `/vip history` show the outcome.',
    }]);
  });
});

/**
 * The life of a change request after its plan exists: announce it (approval message, reactions,
 * expiry), take decisions (approve / reject / cancel / expire), and report execution. Used by the
 * bot (reactions arrive there) and by the jobs; every state change goes through the store's
 * compare-and-set, so duplicates and races change nothing.
 */
import type { AccessControl } from '../access/access-control.ts';
import type { AuditEntry, AuditLog } from '../audit/audit-log.ts';
import type { VipbotConfig } from '../config/config.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Notifier } from '../slack/notifier.ts';
import { escapeHostText } from '../slack/escape.ts';
import { renderApprovalMessage } from '../slack/render-request.ts';
import { classifyReaction, normaliseReaction } from './reactions.ts';
import type { RequestStore } from './request-store.ts';
import type { ChangeRequest, ExecutionOutcome, RequestState } from './types.ts';

/** Queues the execution job (jobId = request id, so it can never be queued twice). */
export interface ExecutionScheduler {
  enqueueExecution(request: ChangeRequest): Promise<void>;
  scheduleExpiry(request: ChangeRequest): Promise<void>;
}

export interface RequestFlowDeps {
  config: VipbotConfig;
  store: Pick<RequestStore, 'findByMessage' | 'claimEvent' | 'get' | 'transition' | 'attachMessage'>;
  audit: Pick<AuditLog, 'append'>;
  notifier: Notifier;
  access: Pick<AccessControl, 'isAllowed'>;
  scheduler: ExecutionScheduler;
  logger: Logger;
  metrics?: Metrics;
  now?: () => number;
}

/** A reaction as Slack delivers it (reaction_added). */
export interface ReactionEvent {
  eventId?: string;
  user: string;
  reaction: string;
  channel: string;
  ts: string;
}

/** `unchecked`: the approver lookup failed; the reactor was told, and the event is left unclaimed so it can count later. */
export type ReactionOutcome = 'approved' | 'rejected' | 'duplicate' | 'not_a_request' | 'refused' | 'ignored' | 'unchecked';

/** What a reaction comes to, decided before anything is claimed or changed. */
type Decision =
  | { kind: 'tell'; text: string; outcome: ReactionOutcome; metric?: string }
  | { kind: 'expire' }
  | { kind: 'approve' }
  | { kind: 'reject' };

/** Requests whose thread could not be posted to and whose requester was told so (once each). */
const MAX_REMEMBERED_THREAD_FAILURES = 1_000;

export class RequestFlow {
  private readonly now: () => number;
  private readonly threadFailuresTold = new Set<string>();

  constructor(private readonly deps: RequestFlowDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Posts the approval message, adds the approve/reject reactions, schedules the expiry. */
  async announce(request: ChangeRequest): Promise<ChangeRequest> {
    const { notifier, store, config } = this.deps;
    const message = renderApprovalMessage(request, config.access, this.now());
    const posted = await notifier.post({ channel: request.channel, ...message });
    await store.attachMessage(request.id, posted.channel, posted.ts);
    const withTs = { ...request, channel: posted.channel, messageTs: posted.ts };
    // The bot's own reactions show people which emoji count; without them the message's text still
    // says which reactions approve, so a failure is logged, not fatal.
    for (const name of [config.access.approveReactions[0], config.access.rejectReactions[0]]) {
      if (name) await notifier.addReaction(posted.channel, posted.ts, name).catch((err: unknown) => this.deps.logger.warn({ err, requestId: request.id }, 'could not add reaction'));
    }
    await this.deps.scheduler.scheduleExpiry(withTs);
    await this.audit(withTs, 'requested', { detail: { plan: request.plan, diff: request.plan.diff, commands: request.plan.commands } });
    return withTs;
  }

  /**
   * A reaction on any message: acts only on approval messages, and tells people why not. The Slack
   * event id is claimed only once the decision stands: a lookup that failed (Slack API error) leaves
   * it unclaimed, so Slack's retry or the same reaction again can still approve.
   */
  async onReaction(event: ReactionEvent): Promise<ReactionOutcome> {
    const { store, config } = this.deps;
    let requestId = await store.findByMessage(event.channel, event.ts);
    if (!requestId && classifyReaction(event.reaction, config.access) !== 'other') {
      // The approval message is visible in Slack a moment before its ts is stored; a very quick
      // approver (or a test) must not be lost in that gap.
      await new Promise((resolve) => setTimeout(resolve, 500));
      requestId = await store.findByMessage(event.channel, event.ts);
    }
    if (!requestId) return 'not_a_request';
    const request = await store.get(requestId);
    if (!request) return 'not_a_request';
    const tell = (text: string) => this.tell(request, event.user, text);

    let decision: Decision;
    try {
      decision = await this.decide(request, event);
    } catch (err) {
      this.deps.logger.warn({ err, requestId: request.id, user: event.user }, 'could not check approver rights');
      const again = `react again in a moment (remove your :${normaliseReaction(event.reaction)}: and add it back)`;
      await tell(`Could not check your approver rights: ${escapeHostText(describeError(err))} — ${again}.`);
      return 'unchecked';
    }
    // Slack retries (X-Slack-Retry-Num) and duplicate deliveries carry the same event_id.
    if (event.eventId && !(await store.claimEvent(event.eventId))) return 'duplicate';

    switch (decision.kind) {
      case 'tell':
        if (decision.metric) this.deps.metrics?.approvals.inc({ outcome: decision.metric });
        if (decision.text) await tell(decision.text);
        return decision.outcome;
      case 'expire':
        await this.expire(request.id);
        const command = `/vip ${request.action} ${request.node}${request.vip ? ` ${request.vip}` : ''}`;
        await tell(`Request \`${request.id}\` expired; ask for a new one with \`${command}\`.`);
        return 'refused';
      case 'approve': {
        const moved = await store.transition(request.id, ['pending'], 'approved', { approvedBy: event.user });
        if (!moved.ok) return 'duplicate';
        this.deps.metrics?.approvals.inc({ outcome: 'approved' });
        await this.audit(moved.request, 'approved', { by: event.user });
        await this.deps.scheduler.enqueueExecution(moved.request);
        await this.refresh(moved.request);
        await this.thread(moved.request, `:white_check_mark: Approved by <@${event.user}>; queued to run (one change per cluster at a time).`);
        return 'approved';
      }
      case 'reject': {
        const patch = { rejectedBy: event.user, outcome: `rejected by <@${event.user}>` };
        const moved = await store.transition(request.id, ['pending'], 'rejected', patch);
        if (!moved.ok) return 'duplicate';
        this.deps.metrics?.approvals.inc({ outcome: 'rejected' });
        await this.audit(moved.request, 'rejected', { by: event.user });
        await this.refresh(moved.request);
        await this.thread(moved.request, `:x: Rejected by <@${event.user}>. Nothing was changed.`);
        return 'rejected';
      }
    }
  }

  /** What a reaction on a request's message comes to. Reads only; throws when the approver lookup fails. */
  private async decide(request: ChangeRequest, event: ReactionEvent): Promise<Decision> {
    const { access, config } = this.deps;
    const kind = classifyReaction(event.reaction, config.access);
    if (kind === 'other') {
      const how = `approvers react with :${config.access.approveReactions[0]}: to approve, :${config.access.rejectReactions[0]}: to reject`;
      const emoji = normaliseReaction(event.reaction);
      const text = request.state === 'pending' ? `:${emoji}: does nothing on request \`${request.id}\`: ${how}.` : '';
      return { kind: 'tell', text, outcome: 'ignored' };
    }
    if (request.state !== 'pending') {
      const by = request.approvedBy ? ` (approved by <@${request.approvedBy}>)` : '';
      return { kind: 'tell', outcome: 'duplicate', text: `Request \`${request.id}\` is already ${request.state}${by}; nothing to do.` };
    }
    if (this.now() > request.expiresAt) return { kind: 'expire' };
    if (kind === 'approve') {
      if (event.user === request.requestedBy) {
        const others = this.listApprovers();
        const text = `You asked for \`${request.id}\` yourself, so you cannot approve it: another approver has to (${others}).`;
        return { kind: 'tell', metric: 'self_approval_refused', outcome: 'refused', text };
      }
      if (!(await access.isAllowed('approvers', event.user))) {
        const text = `Only approvers (${this.listApprovers()}) can approve \`${request.id}\`; your reaction was ignored.`;
        return { kind: 'tell', metric: 'not_approver', outcome: 'refused', text };
      }
      return { kind: 'approve' };
    }
    // Reject: approvers, or the requester changing their mind.
    if (event.user !== request.requestedBy && !(await access.isAllowed('approvers', event.user))) {
      const text = `Only approvers or the requester can reject \`${request.id}\`; your reaction was ignored.`;
      return { kind: 'tell', outcome: 'refused', text };
    }
    return { kind: 'reject' };
  }

  /** `/vip cancel <id>`: the requester or an approver withdraws a pending request. */
  async cancel(requestId: string, userId: string): Promise<{ ok: boolean; text: string }> {
    const request = await this.deps.store.get(requestId);
    if (!request) return { ok: false, text: `No request \`${requestId}\` (requests are kept 30 days). \`/vip history\` lists recent ones.` };
    if (userId !== request.requestedBy && !(await this.deps.access.isAllowed('approvers', userId))) {
      return { ok: false, text: `Only <@${request.requestedBy}> (who asked) or an approver can cancel \`${requestId}\`.` };
    }
    const moved = await this.deps.store.transition(requestId, ['pending'], 'cancelled', { outcome: `cancelled by <@${userId}>` });
    if (!moved.ok) {
      const state = moved.reason === 'wrong_state' ? moved.request.state : 'gone';
      return { ok: false, text: `Request \`${requestId}\` is ${state}; only pending requests can be cancelled.` };
    }
    await this.audit(moved.request, 'cancelled', { by: userId });
    await this.refresh(moved.request);
    await this.thread(moved.request, `:no_entry_sign: Cancelled by <@${userId}>. Nothing was changed.`);
    return { ok: true, text: `Request \`${requestId}\` cancelled.` };
  }

  /** The expiry job (and a late reaction) end a pending request; a no-op for any other state. */
  async expire(requestId: string): Promise<boolean> {
    const moved = await this.deps.store.transition(requestId, ['pending'], 'expired', { outcome: 'expired: nobody approved in time' });
    if (!moved.ok) return false;
    await this.audit(moved.request, 'expired');
    await this.refresh(moved.request);
    await this.thread(moved.request, `:hourglass: Expired: not approved within the time allowed. Nothing was changed.`);
    return true;
  }

  /**
   * Updates the approval message to the request's current state (with the execution outcome once
   * known). When Slack refuses the update, the message would go on showing a state that is over: the
   * thread (else the requester) is told the current state instead.
   */
  async refresh(request: ChangeRequest, outcome?: ExecutionOutcome): Promise<void> {
    if (!request.messageTs) return;
    const message = renderApprovalMessage(request, this.deps.config.access, this.now(), outcome);
    try {
      await this.deps.notifier.update({ channel: request.channel, ts: request.messageTs, ...message });
    } catch (err) {
      this.deps.logger.warn({ err, requestId: request.id }, 'could not update the approval message');
      const now = `request \`${request.id}\` is now *${request.state}*${request.outcome ? `: ${escapeHostText(request.outcome)}` : ''}`;
      await this.thread(request, `:warning: The message above could not be updated (${escapeHostText(describeError(err))}); ${now}.`);
    }
  }

  /**
   * A line in the approval message's thread (progress, decisions). When Slack refuses it, the
   * requester is told privately — once per request, with the line — rather than the thread going quiet.
   */
  async thread(request: ChangeRequest, text: string): Promise<void> {
    if (!request.messageTs) return;
    try {
      await this.deps.notifier.post({ channel: request.channel, threadTs: request.messageTs, text });
    } catch (err) {
      this.deps.logger.warn({ err, requestId: request.id }, 'could not post to the thread');
      if (this.threadFailuresTold.has(request.id)) return;
      if (this.threadFailuresTold.size >= MAX_REMEMBERED_THREAD_FAILURES) this.threadFailuresTold.clear();
      this.threadFailuresTold.add(request.id);
      await this.deps.notifier.postEphemeral({
        channel: request.channel,
        user: request.requestedBy,
        text: `Progress of request \`${request.id}\` could not be posted in its thread (${escapeHostText(describeError(err))}). ` +
          `Latest: ${text}\nFurther lines that fail are only logged; the approval message and \`/vip history\` show the outcome.`,
      }).catch((tellErr: unknown) => {
        this.deps.logger.warn({ err: tellErr, requestId: request.id }, 'could not tell the requester that the thread failed');
      });
    }
  }

  async audit(request: ChangeRequest, event: AuditEntry['event'], extra: Partial<AuditEntry> = {}): Promise<void> {
    await this.deps.audit.append({
      event,
      requestId: request.id,
      action: request.action,
      cluster: request.cluster,
      node: request.node,
      ...(request.vip ? { vip: request.vip } : {}),
      state: request.state as RequestState,
      requestedBy: request.requestedBy,
      ...(request.approvedBy ? { approvedBy: request.approvedBy } : {}),
      ...(request.outcome ? { summary: request.outcome } : {}),
      at: this.now(),
      ...extra,
    });
  }

  /** A private reply to one person; when Slack refuses it, the same words in the thread, addressed to them. */
  private async tell(request: ChangeRequest, user: string, text: string): Promise<void> {
    try {
      const thread = request.messageTs ? { threadTs: request.messageTs } : {};
      await this.deps.notifier.postEphemeral({ channel: request.channel, user, text, ...thread });
    } catch (err) {
      this.deps.logger.warn({ err, requestId: request.id }, 'could not reply privately; replying in the thread');
      await this.thread(request, `<@${user}> ${text}`);
    }
  }

  private listApprovers(): string {
    const list = this.deps.config.access.approvers;
    return list.length ? list.map((id) => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`)).join(', ') : 'nobody is configured: set access.approvers';
  }
}

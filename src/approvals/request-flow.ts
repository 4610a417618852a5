/**
 * The life of a change request after its plan exists: announce it (approval message, reactions,
 * expiry), take decisions (approve / reject / cancel / expire), and report execution. Used by the
 * bot (reactions arrive there) and by the jobs; every state change goes through the store's
 * compare-and-set, so duplicates and races change nothing.
 */
import type { AccessControl } from '../access/access-control.ts';
import type { AuditEntry, AuditLog } from '../audit/audit-log.ts';
import type { VipbotConfig } from '../config/config.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Notifier } from '../slack/notifier.ts';
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
  store: RequestStore;
  audit: AuditLog;
  notifier: Notifier;
  access: AccessControl;
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

export type ReactionOutcome = 'approved' | 'rejected' | 'duplicate' | 'not_a_request' | 'refused' | 'ignored';

export class RequestFlow {
  private readonly now: () => number;

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
    // The bot's own reactions show people which emoji count; failures here are cosmetic.
    for (const name of [config.access.approveReactions[0], config.access.rejectReactions[0]]) {
      if (name) await notifier.addReaction(posted.channel, posted.ts, name).catch((err: unknown) => this.deps.logger.warn({ err, requestId: request.id }, 'could not add reaction'));
    }
    await this.deps.scheduler.scheduleExpiry(withTs);
    await this.audit(withTs, 'requested', { detail: { plan: request.plan, diff: request.plan.diff, commands: request.plan.commands } });
    return withTs;
  }

  /** A reaction on any message: acts only on approval messages, and tells people why not. */
  async onReaction(event: ReactionEvent): Promise<ReactionOutcome> {
    const { store, access, config } = this.deps;
    let requestId = await store.findByMessage(event.channel, event.ts);
    if (!requestId && classifyReaction(event.reaction, config.access) !== 'other') {
      // The approval message is visible in Slack a moment before its ts is stored; a very quick
      // approver (or a test) must not be lost in that gap.
      await new Promise((resolve) => setTimeout(resolve, 500));
      requestId = await store.findByMessage(event.channel, event.ts);
    }
    if (!requestId) return 'not_a_request';
    // Slack retries (X-Slack-Retry-Num) and duplicate deliveries carry the same event_id.
    if (event.eventId && !(await store.claimEvent(event.eventId))) return 'duplicate';
    const request = await store.get(requestId);
    if (!request) return 'not_a_request';
    const kind = classifyReaction(event.reaction, config.access);
    const tell = (text: string) => this.tell(request, event.user, text);

    if (kind === 'other') {
      if (request.state === 'pending') {
        await tell(`:${normaliseReaction(event.reaction)}: does nothing on request \`${request.id}\`: approvers react with :${config.access.approveReactions[0]}: to approve, :${config.access.rejectReactions[0]}: to reject.`);
      }
      return 'ignored';
    }
    if (request.state !== 'pending') {
      await tell(`Request \`${request.id}\` is already ${request.state}${request.approvedBy ? ` (approved by <@${request.approvedBy}>)` : ''}; nothing to do.`);
      return 'duplicate';
    }
    if (this.now() > request.expiresAt) {
      await this.expire(request.id);
      await tell(`Request \`${request.id}\` expired; ask for a new one with \`/vip ${request.action} ${request.node}${request.vip ? ` ${request.vip}` : ''}\`.`);
      return 'refused';
    }

    if (kind === 'approve') {
      if (event.user === request.requestedBy) {
        this.deps.metrics?.approvals.inc({ outcome: 'self_approval_refused' });
        await tell(`You asked for \`${request.id}\` yourself, so you cannot approve it: another approver has to (${this.listApprovers()}).`);
        return 'refused';
      }
      if (!(await access.isAllowed('approvers', event.user))) {
        this.deps.metrics?.approvals.inc({ outcome: 'not_approver' });
        await tell(`Only approvers (${this.listApprovers()}) can approve \`${request.id}\`; your reaction was ignored.`);
        return 'refused';
      }
      const moved = await store.transition(request.id, ['pending'], 'approved', { approvedBy: event.user });
      if (!moved.ok) return 'duplicate';
      this.deps.metrics?.approvals.inc({ outcome: 'approved' });
      await this.audit(moved.request, 'approved', { by: event.user });
      await this.deps.scheduler.enqueueExecution(moved.request);
      await this.refresh(moved.request);
      await this.thread(moved.request, `:white_check_mark: Approved by <@${event.user}>; queued to run (one change per cluster at a time).`);
      return 'approved';
    }

    // Reject: approvers, or the requester changing their mind.
    if (event.user !== request.requestedBy && !(await access.isAllowed('approvers', event.user))) {
      await tell(`Only approvers or the requester can reject \`${request.id}\`; your reaction was ignored.`);
      return 'refused';
    }
    const moved = await store.transition(request.id, ['pending'], 'rejected', { rejectedBy: event.user, outcome: `rejected by <@${event.user}>` });
    if (!moved.ok) return 'duplicate';
    this.deps.metrics?.approvals.inc({ outcome: 'rejected' });
    await this.audit(moved.request, 'rejected', { by: event.user });
    await this.refresh(moved.request);
    await this.thread(moved.request, `:x: Rejected by <@${event.user}>. Nothing was changed.`);
    return 'rejected';
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

  /** Updates the approval message to the request's current state (with the execution outcome once known). */
  async refresh(request: ChangeRequest, outcome?: ExecutionOutcome): Promise<void> {
    if (!request.messageTs) return;
    const message = renderApprovalMessage(request, this.deps.config.access, this.now(), outcome);
    await this.deps.notifier.update({ channel: request.channel, ts: request.messageTs, ...message }).catch((err: unknown) => this.deps.logger.warn({ err, requestId: request.id }, 'could not update the approval message'));
  }

  /** A line in the approval message's thread (progress, decisions). */
  async thread(request: ChangeRequest, text: string): Promise<void> {
    if (!request.messageTs) return;
    await this.deps.notifier.post({ channel: request.channel, threadTs: request.messageTs, text }).catch((err: unknown) => this.deps.logger.warn({ err, requestId: request.id }, 'could not post to the thread'));
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

  private async tell(request: ChangeRequest, user: string, text: string): Promise<void> {
    await this.deps.notifier.postEphemeral({ channel: request.channel, user, text, ...(request.messageTs ? { threadTs: request.messageTs } : {}) })
      .catch((err: unknown) => this.deps.logger.warn({ err, requestId: request.id }, 'could not reply privately'));
  }

  private listApprovers(): string {
    const list = this.deps.config.access.approvers;
    return list.length ? list.map((id) => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`)).join(', ') : 'nobody is configured: set access.approvers';
  }
}

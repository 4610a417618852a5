/**
 * The vocabulary of destructive actions (SPEC §5): a request, the plan built from the live hosts
 * before anyone approves, and the outcome of running it. Stored in Redis as JSON, so every shape is
 * a zod schema.
 */
import { z } from 'zod';

export const Action = z.enum(['promote', 'demote', 'start']);
export type Action = z.infer<typeof Action>;

export const RequestState = z.enum(['pending', 'approved', 'rejected', 'expired', 'cancelled', 'running', 'succeeded', 'failed', 'rolled_back']);
export type RequestState = z.infer<typeof RequestState>;

/** States after which nothing more happens to a request. */
export const FINAL_STATES: readonly RequestState[] = ['rejected', 'expired', 'cancelled', 'succeeded', 'failed', 'rolled_back'];

/** Where each VIP is (or should be): VIP name → holder node names (exactly one when settled). */
export const VipPlacement = z.record(z.string(), z.array(z.string()));
export type VipPlacement = z.infer<typeof VipPlacement>;

/** One node command the plan will run, in order, as shown to the approver. */
export const PlannedCommand = z.object({
  node: z.string(),
  /** Command id from src/hosts/node-commands.ts. */
  id: z.string(),
  /** Readable form (formatCommand). */
  display: z.string(),
});
export type PlannedCommand = z.infer<typeof PlannedCommand>;

export const PreCheck = z.object({
  ok: z.boolean(),
  /** A failed check with severity "warning" does not block the request (e.g. an unreachable peer). */
  severity: z.enum(['blocker', 'warning', 'info']),
  message: z.string(),
});
export type PreCheck = z.infer<typeof PreCheck>;

export const Plan = z.object({
  action: Action,
  cluster: z.string(),
  node: z.string(),
  /** VIP name for promote. */
  vip: z.string().optional(),
  /** Instance whose priority changes (promote). */
  instance: z.string().optional(),
  /** Promote: the priority before and after. */
  priority: z.object({ before: z.number().int(), after: z.number().int() }).optional(),
  /** The config as read when planning (promote): the job refuses to run if the host's differs. */
  baseConfig: z.string().optional(),
  /** The config to install (promote). */
  newConfig: z.string().optional(),
  /** Unified diff of base → new (promote): exactly one line changes. */
  diff: z.string().optional(),
  /** keepalived service state when planning (demote/start). */
  serviceActiveBefore: z.boolean().optional(),
  commands: z.array(PlannedCommand),
  /** Where the VIPs are now and where they should be after the change. */
  before: VipPlacement,
  expected: VipPlacement,
  checks: z.array(PreCheck),
  /** Set when the plan refuses (a blocker failed, or nothing to do): the reason, said to the requester. */
  refusal: z.string().optional(),
  /** True when there is nothing to do (e.g. promote on a node that already has the highest priority). */
  noop: z.boolean().optional(),
  apply: z.enum(['reload', 'restart']).optional(),
  configPath: z.string().optional(),
  service: z.string(),
  convergeTimeoutMs: z.number().int(),
});
export type Plan = z.infer<typeof Plan>;

export const ChangeRequest = z.object({
  id: z.string().regex(/^[a-z0-9]{6}$/),
  action: Action,
  cluster: z.string(),
  node: z.string(),
  vip: z.string().optional(),
  force: z.boolean().default(false),
  state: RequestState,
  requestedBy: z.string(),
  approvedBy: z.string().optional(),
  rejectedBy: z.string().optional(),
  channel: z.string(),
  /** ts of the approval message. */
  messageTs: z.string().optional(),
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  plan: Plan,
  /** Short human outcome once final. */
  outcome: z.string().optional(),
});
export type ChangeRequest = z.infer<typeof ChangeRequest>;

/** One node command as it ran, for the audit log. */
export const CommandRecord = z.object({
  node: z.string(),
  id: z.string(),
  display: z.string(),
  exitCode: z.number().int().nullable(),
  /** The signal that ended it when there is no exit code (e.g. "SIGTERM"). */
  signal: z.string().optional(),
  durationMs: z.number(),
  error: z.string().optional(),
  /** The VipbotError code when it gave no result (ssh_command_timeout, ssh_connection_lost, …). */
  errorCode: z.string().optional(),
  at: z.number().int(),
});
export type CommandRecord = z.infer<typeof CommandRecord>;

/**
 * One part of a node as an action left it: never touched, changed (and not put back), perhaps
 * changed (a command whose outcome is unknown), or put back by the rollback.
 */
export const PartState = z.enum(['unchanged', 'changed', 'unknown', 'restored']);
export type PartState = z.infer<typeof PartState>;

/** What an action left changed on its node (SPEC §5.4): the parts keepalived uses, and files left beside them. */
export const HostChanges = z.object({
  node: z.string(),
  /** The config file keepalived reads (promote only). */
  config: PartState.optional(),
  /** The running service: reload/restart (promote), stop (demote), start (start). */
  service: PartState,
  /** Files vipbot wrote that keepalived does not read and that were not cleaned up (a staged copy). */
  leftovers: z.array(z.string()),
});
export type HostChanges = z.infer<typeof HostChanges>;

/** What running an approved request came to. */
export const ExecutionOutcome = z.object({
  state: z.enum(['succeeded', 'failed', 'rolled_back']),
  summary: z.string(),
  /** Failure reason, when not succeeded. */
  error: z.string().optional(),
  /** Rollback report, when a rollback ran. */
  rollback: z.string().optional(),
  commands: z.array(CommandRecord),
  /** Where the VIPs ended up. */
  final: VipPlacement,
  /** Nodes whose addresses could not be read for `final`: a VIP on none of the others may be on one of these. */
  unreadNodes: z.array(z.string()).optional(),
  /** ms from start of execution to VIPs settled (succeeded only). */
  settledMs: z.number().optional(),
  backupPath: z.string().optional(),
  /** What the action left changed on the node (absent in outcomes stored before it existed). */
  changes: HostChanges.optional(),
});
export type ExecutionOutcome = z.infer<typeof ExecutionOutcome>;

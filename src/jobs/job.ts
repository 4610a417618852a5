/**
 * The shape of a job (one file per job under jobs/). A job that is refused or whose data is invalid
 * throws BullMQ's UnrecoverableError so it is not retried; transient failures may retry.
 */
import type { z } from 'zod';
import type { Target } from '../commands/resolve-target.ts';
import type { VipbotConfig } from '../config/config.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { NodeFacts, VipStatus } from '../model.ts';
import type { Notifier } from '../slack/notifier.ts';
import type { RequestFlow } from '../approvals/request-flow.ts';
import type { RequestStore } from '../approvals/request-store.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { NodeRunner } from '../status/collect-node-facts.ts';
import type { MemoryDeps } from '../memory/memory-runtime.ts';
import type { WatchStore } from '../status/watch-store.ts';

/** Collects live facts and analyses them (src/status/). */
export interface StatusCollector {
  collect(target: Target, signal?: AbortSignal): Promise<VipStatus>;
  /** Raw facts of every node of one cluster, in config order (for planning). */
  collectFacts(cluster: string, signal?: AbortSignal): Promise<NodeFacts[]>;
}

/** Everything a job may use; created once in src/main.ts. */
export interface JobDeps {
  config: VipbotConfig;
  notifier: Notifier;
  status: StatusCollector;
  logger: Logger;
  metrics?: Metrics;
  store: RequestStore;
  audit: AuditLog;
  flow: RequestFlow;
  runner: NodeRunner;
  /** Memory history: the Redis store and the SSH sampler (absent where memory jobs do not run). */
  memory?: MemoryDeps;
  /** The status watch's last warning set (absent where the watch does not run). */
  watch?: WatchStore;
  now?: () => number;
}

export interface JobContext {
  jobId: string;
  attempt: number;
  signal: AbortSignal;
  log: Logger;
}

export interface JobDefinition<Data> {
  name: string;
  data: z.ZodType<Data>;
  process(data: Data, deps: JobDeps, ctx: JobContext): Promise<unknown>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobDefinition = JobDefinition<any>;

/**
 * The shape of a `/vip` sub-command (one file per command under commands/). `handle` is pure with
 * respect to the outside world: it returns a reply or a job request; the dispatcher does the I/O.
 */
import type { KnownBlock } from '@slack/types';
import type { VipbotConfig } from '../config/config.ts';

/** Who may run a command (SPEC §3 access lists). */
export type AccessLevel = 'anyone' | 'viewers' | 'operators';

/** Where and by whom a command was typed. */
export interface CommandInput {
  userId: string;
  channelId: string;
  responseUrl?: string;
}

/** A job to queue; `name` selects a file under jobs/. */
export interface JobRequest {
  name: string;
  data: Record<string, unknown>;
  /** Idempotency key: a job with the same id is not queued twice. */
  jobId?: string;
}

export type CommandOutcome =
  | { kind: 'reply'; text: string; blocks?: KnownBlock[] }
  | { kind: 'job'; job: JobRequest; ack: string };

export interface Command<Args> {
  name: string;
  /** One-line usage, e.g. `status [cluster|node]`. */
  usage: string;
  summary: string;
  examples: string[];
  access: AccessLevel;
  /** Turns the argument tokens into typed arguments; throws a VipbotError that says what would work. */
  parseArgs(tokens: string[], config: VipbotConfig): Args;
  handle(args: Args, input: CommandInput, config: VipbotConfig): CommandOutcome;
}

/** Erases the argument type so commands of different shapes share one registry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = Command<any>;

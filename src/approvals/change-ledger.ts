/**
 * What an approved action really changed on its node (SPEC §5.4, §8 "a failed action that changed
 * nothing"). The executor notes every command that touches the host here as it runs — including the
 * ones that failed, and whether a failed one may still have taken effect — so a failure is judged
 * from what happened, never from which step threw: an SSH error before the install changed nothing
 * (no rollback, no reload/restart), and a rollback undoes only what was installed or applied.
 *
 * Two parts of a host matter to the user: the config file keepalived reads (promote) and the running
 * service (reload/restart, stop/start). Files vipbot writes beside the config (the backup, the staged
 * copy) are not "the host changed": keepalived never reads them. They are reported as left behind.
 */
import { VipbotError } from '../errors.ts';
import type { Action, HostChanges, PartState } from './types.ts';

/** Errors that mean the command never reached the host: it cannot have changed anything. */
const NEVER_RAN = new Set([
  'ssh_connect_timeout',
  'ssh_connect_failed',
  'ssh_auth_failed',
  'ssh_known_hosts_unreadable',
  'ssh_private_key_unreadable',
  'ssh_channel_refused',
  'ssh_pool_closed',
  'ssh_sudo_denied',
  'node_command_invalid',
]);

/**
 * Could a command that threw `err` have run on the host? Only a refusal before it started says no;
 * a dropped connection, a timeout or a cancel mid-command leave its outcome unknown.
 */
export function mayHaveRun(err: unknown): boolean {
  return !(err instanceof VipbotError && neverRan(err.code));
}

/** True for the error codes that mean the command never reached the host. */
export function neverRan(code: string): boolean {
  return NEVER_RAN.has(code) || code.startsWith('ssh_host_key_');
}

export type HostPart = 'config' | 'service';

export class ChangeLedger {
  private readonly parts: Record<HostPart, PartState> = { config: 'unchanged', service: 'unchanged' };
  /** A staged copy may sit beside the config (written, not yet renamed into place). */
  private staged = false;
  /** Where the config was backed up to, once it was. */
  backupPath: string | undefined;

  constructor(
    private readonly action: Action,
    readonly node: string,
    private readonly paths: { config: string; staging: string },
    private readonly apply: 'reload' | 'restart',
  ) {}

  /** What a finished earlier run (the journal) already did: a retry starts from there. */
  resume(journal: Readonly<Record<string, string>>): void {
    if (journal.installed !== undefined) this.parts.config = 'changed';
    if (journal.applied !== undefined) this.parts.service = 'changed';
    // Killed mid-apply: the reload/restart/stop may or may not have run.
    else if (journal.applying !== undefined) this.parts.service = 'unknown';
  }

  /** A command that changes `part` succeeded. */
  done(part: HostPart): void {
    this.parts[part] = 'changed';
    if (part === 'config') this.staged = false;
  }

  /** A command that changes `part` failed; `ran` says whether it may still have taken effect. */
  failed(part: HostPart, ran: boolean): void {
    if (ran && this.parts[part] === 'unchanged') this.parts[part] = 'unknown';
  }

  /** The rollback put `part` back as it was before. */
  restored(part: HostPart): void {
    this.parts[part] = 'restored';
    if (part === 'config') this.staged = false;
  }

  /** A rollback command for `part` failed: if it may have run, nobody knows what the part holds now. */
  restoreFailed(part: HostPart, ran: boolean): void {
    if (ran) this.parts[part] = 'unknown';
  }

  /** The stage command (or the rollback's copy of the backup onto the staging path) was attempted. */
  stagedCopy(): void {
    this.staged = true;
  }

  state(part: HostPart): PartState {
    return this.parts[part];
  }

  /** True when neither the config keepalived reads nor the service was (or may have been) touched. */
  nothingChanged(): boolean {
    return this.parts.config === 'unchanged' && this.parts.service === 'unchanged';
  }

  /** The structured form for the outcome (audit, metadata readers). */
  report(): HostChanges {
    return {
      node: this.node,
      ...(this.action === 'promote' ? { config: this.parts.config } : {}),
      service: this.parts.service,
      leftovers: this.staged ? [this.paths.staging] : [],
    };
  }

  /** "failed — nothing was changed on node2: <reason>", and any file left behind. */
  describeNothingChanged(reason: string): string {
    return `failed — nothing was changed on ${this.node}: ${reason}${this.describeLeftovers()}`;
  }

  /** What the node holds now, part by part: "/etc/…/keepalived.conf replaced with the new config, keepalived reloaded". */
  describeNow(): string {
    const parts = this.action === 'promote' ? [this.describeConfig(), this.describeService()] : [this.describeService()];
    return `${parts.join(', ')}${this.describeLeftovers()}`;
  }

  private describeLeftovers(): string {
    if (!this.staged) return '';
    return `; a staged copy may be left at ${this.paths.staging} (keepalived does not read it; the next change overwrites it)`;
  }

  private describeConfig(): string {
    const file = this.paths.config;
    switch (this.parts.config) {
      case 'unchanged': return `${file} unchanged`;
      case 'changed': return `${file} replaced with the new config (not restored)`;
      case 'unknown': return `${file} may or may not have been replaced (the command's outcome is unknown)`;
      case 'restored': return `${file} restored from ${this.backupPath ?? 'the backup'}`;
    }
  }

  private describeService(): string {
    const [done, undone] = SERVICE_WORDS[this.action === 'promote' ? this.apply : this.action];
    switch (this.parts.service) {
      case 'unchanged': return `keepalived not ${done}`;
      case 'changed': return `keepalived ${done}`;
      case 'unknown': return `keepalived may have been ${done}`;
      case 'restored': return `keepalived ${undone}`;
    }
  }
}

/** Per kind of service change: the word for doing it, and what the rollback did. */
const SERVICE_WORDS: Record<'reload' | 'restart' | 'demote' | 'start', [string, string]> = {
  reload: ['reloaded', 'reloaded again with the restored config'],
  restart: ['restarted', 'restarted again with the restored config'],
  demote: ['stopped', 'started again'],
  start: ['started', 'stopped again'],
};

/**
 * Who may do what (SPEC §3 `access`). Lists hold user ids (U…/W…) and user group ids (S…); groups are
 * resolved through Slack's usergroups.users.list and cached briefly so a busy channel does not hammer
 * the API and the 3-second ack is kept.
 */
import type { AccessConfig } from '../config/config.ts';

export type Role = 'viewers' | 'operators' | 'approvers';

/** Looks up the members of a Slack user group. */
export interface UserGroupDirectory {
  membersOf(groupId: string): Promise<string[]>;
}

export class AccessControl {
  private readonly cache = new Map<string, { members: Set<string>; expires: number }>();

  constructor(
    private readonly access: AccessConfig,
    private readonly directory: UserGroupDirectory,
    private readonly cacheTtlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Viewers: an empty list means everyone; operators and approvers may always read.
   * Operators and approvers: an empty list means nobody (destructive actions are opt-in).
   */
  async isAllowed(role: Role, userId: string): Promise<boolean> {
    if (role === 'viewers') {
      if (this.access.viewers.length === 0) return true;
      return (await this.inList(this.access.viewers, userId))
        || (await this.inList(this.access.operators, userId))
        || (await this.inList(this.access.approvers, userId));
    }
    return this.inList(this.access[role], userId);
  }

  /** Commands are accepted in any channel when the list is empty. */
  isChannelAllowed(channelId: string): boolean {
    return this.access.channels.length === 0 || this.access.channels.includes(channelId);
  }

  get allowedChannels(): readonly string[] {
    return this.access.channels;
  }

  private async inList(list: readonly string[], userId: string): Promise<boolean> {
    if (list.includes(userId)) return true;
    for (const entry of list) {
      if (entry.startsWith('S') && (await this.groupMembers(entry)).has(userId)) return true;
    }
    return false;
  }

  private async groupMembers(groupId: string): Promise<Set<string>> {
    const cached = this.cache.get(groupId);
    if (cached && cached.expires > this.now()) return cached.members;
    const members = new Set(await this.directory.membersOf(groupId));
    this.cache.set(groupId, { members, expires: this.now() + this.cacheTtlMs });
    return members;
  }
}

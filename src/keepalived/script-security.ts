/**
 * Who keepalived runs a vrrp_script as, and whether it runs it at all — so vipbot runs each track
 * script exactly as keepalived would (SPEC §8). Pure: the host facts (users, groups, path modes) are
 * read by the caller. Follows keepalived 2.x (lib/notify.c, vrrp/vrrp_parser.c, checked against 2.2.7):
 *
 * - The user is the vrrp_script's `user USER [GROUP]`, else global_defs `script_user USER [GROUP]`,
 *   else `keepalived_script` when that user exists, else the user keepalived runs as (root). Without a
 *   GROUP the user's primary group is used. A named user or group that does not exist drops the
 *   script; so does a missing keepalived_script under `enable_script_security` (no fallback to root).
 * - At load keepalived resolves the script's real path (symlinks), and disables it when it is missing
 *   or not executable by that uid:gid (root: any x bit; owner: u+x; group: g+x; others: o+x).
 * - Only when the script would run with uid 0 or gid 0 (or is setuid/setgid root) is its path checked:
 *   every component from `/` to the file must be owned by root, and none may be writable by a non-root
 *   group or by others (a directory with the sticky bit, like /tmp, may be). With
 *   `enable_script_security` an unsafe script is disabled; without it keepalived runs it anyway.
 * - A disabled script is removed from the instances that track it: it no longer affects their state.
 *
 * keepalived also clears supplementary groups (setgroups to the one gid); runuser/sudo keep the
 * user's own supplementary groups, the one difference vipbot cannot express without a shell.
 */
import { UnixUser } from '../hosts/node-commands.ts';
import type { ScriptGlobals, VrrpScript } from './parse-conf.ts';

/** keepalived's default script user (used when it exists on the host). */
export const DEFAULT_SCRIPT_USER = 'keepalived_script';

/** Who the config says runs a script, before the host's accounts are consulted. */
export interface ScriptRunner {
  user: string;
  group?: string;
  /** `vrrp_script` (its own `user`), `script_user` (global_defs) or `default` (keepalived_script, else root). */
  source: 'vrrp_script' | 'script_user' | 'default';
}

/** The host's accounts, as far as they were looked up (absent = does not exist). */
export interface HostAccounts {
  users: ReadonlyMap<string, { uid: number; gid: number }>;
  groups: ReadonlyMap<string, number>;
}

/** A resolved identity: what keepalived would setuid/setgid to. `group` only when the config names one. */
export interface ScriptIdentity {
  user: string;
  group?: string;
  uid: number;
  gid: number;
}

/** Why keepalived would not run a script, and what would fix it. */
export interface ScriptRefusal {
  reason: string;
  fix: string;
}

/** One `stat` of a path (not following a symlink at the end). */
export interface PathStat {
  path: string;
  uid: number;
  gid: number;
  /** st_mode, type bits included. */
  mode: number;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;

export function isRefusal(value: object): value is ScriptRefusal {
  return 'reason' in value;
}

/** Who runs `script` according to the config alone. */
export function configuredRunner(script: VrrpScript, globals: ScriptGlobals): ScriptRunner {
  const withGroup = (group: string | undefined) => (group !== undefined ? { group } : {});
  if (script.user !== undefined) return { user: script.user, ...withGroup(script.group), source: 'vrrp_script' };
  if (globals.scriptUser !== undefined) return { user: globals.scriptUser, ...withGroup(globals.scriptGroup), source: 'script_user' };
  return { user: DEFAULT_SCRIPT_USER, source: 'default' };
}

/** The user and group names to look up on the host (root is always 0:0; odd names are refused, not looked up). */
export function accountsToLookUp(runners: readonly ScriptRunner[]): { users: string[]; groups: string[] } {
  const plain = (name: string | undefined): name is string =>
    name !== undefined && name !== 'root' && UnixUser.safeParse(name).success;
  return {
    users: [...new Set(runners.map((r) => r.user).filter(plain))].sort(),
    groups: [...new Set(runners.map((r) => r.group).filter(plain))].sort(),
  };
}

/** What keepalived would setuid/setgid to for this runner, or why it drops the script. */
export function resolveIdentity(
  script: VrrpScript,
  runner: ScriptRunner,
  accounts: HostAccounts,
  scriptSecurity: boolean,
): ScriptIdentity | ScriptRefusal {
  const where = runner.source === 'vrrp_script' ? `vrrp_script ${script.name}` : 'global_defs script_user';
  for (const [kind, name] of [['user', runner.user], ['group', runner.group]] as const) {
    if (name !== undefined && !UnixUser.safeParse(name).success) {
      return {
        reason: `${where} names the ${kind} ${JSON.stringify(name)}, which vipbot does not pass to a host (not a plain Unix ${kind} name)`,
        fix: `use a plain ${kind} name (lower case letters, digits, _ and -) in ${where}`,
      };
    }
  }
  const user = runner.user === 'root' ? { uid: 0, gid: 0 } : accounts.users.get(runner.user);
  if (!user && runner.source === 'default') {
    if (scriptSecurity) {
      return {
        reason: `it names no user (no user in vrrp_script ${script.name}, no script_user in global_defs) and ${DEFAULT_SCRIPT_USER} `
          + 'does not exist on the host — keepalived (enable_script_security) refuses it too rather than run it as root',
        fix: `add "user <name>" to vrrp_script ${script.name} (or script_user to global_defs), or create the ${DEFAULT_SCRIPT_USER} user`,
      };
    }
    return { user: 'root', uid: 0, gid: 0 };
  }
  if (!user) {
    return {
      reason: `user ${runner.user} (${where}) does not exist on the host — keepalived drops the script too`,
      fix: `create user ${runner.user} or name an existing user in ${where}`,
    };
  }
  if (runner.group === undefined) return { user: runner.user, uid: user.uid, gid: user.gid };
  const gid = runner.group === 'root' ? 0 : accounts.groups.get(runner.group);
  if (gid === undefined) {
    return {
      reason: `group ${runner.group} (${where}) does not exist on the host — keepalived drops the script too`,
      fix: `create group ${runner.group} or name an existing group in ${where}`,
    };
  }
  return { user: runner.user, group: runner.group, uid: user.uid, gid };
}

/** `/a/b/c` → [`/`, `/a`, `/a/b`, `/a/b/c`]: what keepalived stats, in its order. */
export function pathComponents(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return ['/', ...parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`)];
}

/** keepalived's is_executable(): root needs any x bit; the owner u+x; the group g+x; others o+x. */
function isExecutable(file: PathStat, id: ScriptIdentity): boolean {
  if (id.uid === 0) return (file.mode & 0o111) !== 0;
  if (id.uid === file.uid) return (file.mode & 0o100) !== 0;
  return (id.gid === file.gid ? file.mode & 0o010 : file.mode & 0o001) !== 0;
}

/** What keepalived's load-time check says about a script at `realPath` (symlinks resolved), run as `id`. */
export function judgeScriptPath(
  script: VrrpScript,
  realPath: string,
  stats: ReadonlyMap<string, PathStat>,
  id: ScriptIdentity,
  scriptSecurity: boolean,
): ScriptRefusal | { needsProtection: boolean } {
  const shown = realPath === script.script ? script.script : `${script.script} (${realPath})`;
  const file = stats.get(realPath);
  const disabled = 'keepalived disables it too';
  if (!file) {
    const fix = `install the script at ${script.script} or correct vrrp_script ${script.name}`;
    return refuse(`${shown} does not exist — ${disabled} (not found)`, fix);
  }
  if ((file.mode & S_IFMT) !== S_IFREG) {
    return refuse(`${shown} is not a regular file — ${disabled}`, `point vrrp_script ${script.name} at the script file`);
  }
  if (!isExecutable(file, id)) {
    const who = id.uid === 0 ? 'a' : id.uid === file.uid ? 'u' : id.gid === file.gid ? 'g' : 'o';
    return refuse(`${shown} is not executable by ${describeIdentity(id)} — ${disabled}`, `chmod ${who}+x ${realPath}`);
  }
  const setIdRoot = (file.uid === 0 && (file.mode & S_ISUID) !== 0 && (file.mode & 0o100) !== 0)
    || (file.gid === 0 && (file.mode & S_ISGID) !== 0 && (file.mode & 0o010) !== 0);
  const needsProtection = id.uid === 0 || id.gid === 0 || setIdRoot;
  if (!needsProtection || !scriptSecurity) return { needsProtection };
  const refuses = 'keepalived (enable_script_security) refuses it too';
  const components = pathComponents(realPath);
  for (const [i, path] of components.entries()) {
    const entry = stats.get(path);
    const last = i === components.length - 1;
    if (!entry) return { reason: `${path} (on the path of ${shown}) could not be checked`, fix: `check that ${path} exists` };
    const type = entry.mode & S_IFMT;
    if (!last && type !== S_IFDIR) {
      return refuse(`${path} on the path of ${shown} is not a directory — ${refuses}`, `make ${path} a directory`);
    }
    const unsafe = unsafeBecause(entry, type);
    if (unsafe) {
      return {
        reason: `${path} ${unsafe.what} and ${script.name} would run as ${describeIdentity(id)} — ${refuses}`,
        fix: `${unsafe.fix} ${path} (or give vrrp_script ${script.name} a non-root "user")`,
      };
    }
  }
  return { needsProtection };
}

/** keepalived's rule: not owned by root, or (a file, or a directory without the sticky bit) writable by a non-root group or others. */
function unsafeBecause(entry: PathStat, type: number): { what: string; fix: string } | undefined {
  if (entry.uid !== 0) return { what: `is owned by uid ${entry.uid}, not root`, fix: 'chown root' };
  const guarded = type === S_IFREG || (type === S_IFDIR && (entry.mode & S_ISVTX) === 0);
  if (!guarded) return undefined;
  if (entry.gid !== 0 && (entry.mode & 0o020) !== 0) return { what: `is writable by its group (gid ${entry.gid})`, fix: 'chmod g-w' };
  if ((entry.mode & 0o002) !== 0) return { what: 'is writable by everyone', fix: 'chmod o-w' };
  return undefined;
}

function refuse(reason: string, fix: string): ScriptRefusal {
  return { reason, fix };
}

/** `root`, `oracle (uid 54321)`, `oracle:dba (uid 54321, gid 54322)`. */
export function describeIdentity(id: ScriptIdentity): string {
  if (id.user === 'root' && id.group === undefined) return 'root';
  return id.group === undefined ? `${id.user} (uid ${id.uid})` : `${id.user}:${id.group} (uid ${id.uid}, gid ${id.gid})`;
}

/** Parses `getent passwd` output into name → uid/gid (malformed lines skipped). */
export function parseGetentPasswd(text: string): Map<string, { uid: number; gid: number }> {
  const users = new Map<string, { uid: number; gid: number }>();
  for (const line of text.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name && uid !== undefined && gid !== undefined && /^\d+$/.test(uid) && /^\d+$/.test(gid)) {
      users.set(name, { uid: Number(uid), gid: Number(gid) });
    }
  }
  return users;
}

/** Parses `getent group` output into name → gid. */
export function parseGetentGroup(text: string): Map<string, number> {
  const groups = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name && gid !== undefined && /^\d+$/.test(gid)) groups.set(name, Number(gid));
  }
  return groups;
}

/** Parses `stat -c %u:%g:%f:%n` output (paths hold no `:`; HostPath forbids it). */
export function parseStatLines(text: string): Map<string, PathStat> {
  const stats = new Map<string, PathStat>();
  for (const line of text.split('\n')) {
    const match = /^(\d+):(\d+):([0-9a-f]+):(\/.*)$/.exec(line);
    if (!match) continue;
    stats.set(match[4]!, { path: match[4]!, uid: Number(match[1]), gid: Number(match[2]), mode: parseInt(match[3]!, 16) });
  }
  return stats;
}

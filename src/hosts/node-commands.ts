/**
 * THE list of commands vipbot may run on a database host (SPEC §7). Each builder turns typed,
 * validated arguments into an argv; `wrapCommand` quotes every element and puts it under a host-side
 * `timeout`. The SSH pool runs only commands issued here (checked by identity), so nothing else can
 * reach a host's shell — in particular no text typed in Slack.
 *
 * Intended flow of a config change (the job composes these; the paths come from `stagingPathFor` /
 * `timestampedBackupPathFor` (or the older single `backupPathFor`) so the sudoers example can name them):
 *   backupConfig(conf, backup) → stageConfig(staging, text) → copyOwnerMode(conf, staging)
 *   → testConfig(staging) (and testConfig(conf), to compare) → installConfig(staging, conf) → reload/restart
 * Rollback: backupConfig(backup, staging) → installConfig(staging, conf) → reload/restart.
 *
 * Binaries are called by name and found through the host's PATH, because they live in different
 * directories on Debian and RHEL (`ip` is /usr/bin/ip on one, /usr/sbin/ip on the other); sudo
 * resolves the name through its secure_path and matches the sudoers entry by inode.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { VipbotError } from '../errors.ts';

export const CommandId = z.enum([
  'read-config',
  'service-show',
  'service-is-active',
  'service-start',
  'service-stop',
  'service-restart',
  'service-reload',
  'list-keepalived-processes',
  'list-addresses',
  'read-cgroup-memory',
  'read-smaps-rollup',
  'lookup-users',
  'lookup-groups',
  'resolve-paths',
  'stat-paths',
  'run-track-script',
  'test-config',
  'backup-config',
  'stage-config',
  'install-config',
  'copy-owner',
  'copy-mode',
  'keepalived-version',
  'sudo-check',
]);
export type CommandId = z.infer<typeof CommandId>;

/** A command ready for the SSH pool. Only this module creates them (see `isIssuedCommand`). */
export interface NodeCommand {
  /** Stable id: metrics labels, audit entries, tests. */
  readonly id: CommandId;
  /** The real command, without `timeout`/`sudo`/`runuser`; those are added by `wrapCommand`. */
  readonly argv: readonly string[];
  /** Bytes sent on the command's stdin (then EOF); absent = empty stdin. */
  readonly stdin?: string;
  /** Run as this user (track scripts: the user keepalived runs them as), via runuser or `sudo -u`. */
  readonly runAs?: string;
  /** With `runAs`: the group keepalived would use (`user USER GROUP`, `script_user USER GROUP`), via `-g`. */
  readonly runGroup?: string;
  /** True when the command changes the host (the job audits and never blindly retries these). */
  readonly mutates: boolean;
  /** Run as the SSH user even with `ssh.sudo` (it asks sudo itself: `sudo -n -l`). */
  readonly asSshUser?: boolean;
}

/** One documented command, for the README and the sudoers example. */
export interface CommandTemplate {
  id: CommandId;
  /** argv with `<placeholders>` for the arguments. */
  template: readonly string[];
  /** Where the program usually lives (Debian 12 / RHEL 9); sudoers needs full paths. */
  program: string;
  mutates: boolean;
  runs: 'as the SSH user (or root with sudo)' | 'as the vrrp_script user' | 'as the SSH user (never through sudo)';
  purpose: string;
}

/** `systemctl show` properties the status and memory code parse (never `systemctl status` text). */
export const SERVICE_SHOW_PROPERTIES = [
  'Id',
  'ActiveState',
  'SubState',
  'MainPID',
  'MemoryCurrent',
  'ExecMainStartTimestamp',
  'ActiveEnterTimestamp',
  'NRestarts',
  'ControlGroup',
] as const;

const PS_FORMAT = 'pid=,ppid=,rss=,vsz=,etimes=,args=';

/** `stat` output per path: uid, gid, raw mode in hex (type bits included), name. No blanks, so sudoers can name it. */
export const STAT_FORMAT = '%u:%g:%f:%n';

const CATALOG: Record<CommandId, Omit<CommandTemplate, 'id'>> = {
  'read-config': { template: ['cat', '--', '<configPath>'], program: '/usr/bin/cat', mutates: false, runs: 'as the SSH user (or root with sudo)', purpose: 'read keepalived.conf (or its backup)' },
  'service-show': { template: ['systemctl', 'show', `--property=${SERVICE_SHOW_PROPERTIES.join(',')}`, '<service>'], program: '/usr/bin/systemctl', mutates: false, runs: 'as the SSH user (or root with sudo)', purpose: 'service state, main PID, unit memory, restarts' },
  'service-is-active': { template: ['systemctl', 'is-active', '<service>'], program: '/usr/bin/systemctl', mutates: false, runs: 'as the SSH user (or root with sudo)', purpose: 'is keepalived running (exit 0 = active)' },
  'service-start': { template: ['systemctl', 'start', '<service>'], program: '/usr/bin/systemctl', mutates: true, runs: 'as the SSH user (or root with sudo)', purpose: '/vip start' },
  'service-stop': { template: ['systemctl', 'stop', '<service>'], program: '/usr/bin/systemctl', mutates: true, runs: 'as the SSH user (or root with sudo)', purpose: '/vip demote (fix b)' },
  'service-restart': { template: ['systemctl', 'restart', '<service>'], program: '/usr/bin/systemctl', mutates: true, runs: 'as the SSH user (or root with sudo)', purpose: 'apply a config change (keepalived.apply: restart)' },
  'service-reload': { template: ['systemctl', 'reload', '<service>'], program: '/usr/bin/systemctl', mutates: true, runs: 'as the SSH user (or root with sudo)', purpose: 'apply a config change without a VIP flap (keepalived.apply: reload)' },
  'list-keepalived-processes': { template: ['ps', '-o', PS_FORMAT, '-C', 'keepalived'], program: '/usr/bin/ps', mutates: false, runs: 'as the SSH user (or root with sudo)', purpose: 'RSS/VSZ of the keepalived processes (memory history)' },
  'list-addresses': { template: ['ip', '-o', 'addr', 'show'], program: '/usr/sbin/ip', mutates: false, runs: 'as the SSH user (or root with sudo)', purpose: 'which VIPs this host holds (no `ip -j`: older iproute2)' },
  'read-cgroup-memory': { template: ['cat', '--', '/sys/fs/cgroup/<cgroup>/<memory.stat|memory.current|memory.usage_in_bytes>'], program: '/usr/bin/cat', mutates: false, runs: 'as the SSH user (or root with sudo)', purpose: 'the keepalived unit\'s cgroup memory split into anon and page cache (v2 `<ControlGroup>/…`, v1 `memory/<ControlGroup>/…`)' },
  'read-smaps-rollup': { template: ['cat', '--', '/proc/<pid>/smaps_rollup'], program: '/usr/bin/cat', mutates: false, runs: 'as the SSH user (or root with sudo)', purpose: 'Pss_Anon of one keepalived process (the part of RSS a heap leak grows)' },
  'lookup-users': {
    template: ['getent', 'passwd', '<user…>'], program: '/usr/bin/getent', mutates: false, runs: 'as the SSH user (or root with sudo)',
    purpose: 'uid and gid of the users track scripts run as (and whether keepalived_script exists), as keepalived resolves them',
  },
  'lookup-groups': {
    template: ['getent', 'group', '<group…>'], program: '/usr/bin/getent', mutates: false, runs: 'as the SSH user (or root with sudo)',
    purpose: 'gid of a group named by `user USER GROUP` or `script_user USER GROUP`',
  },
  'resolve-paths': {
    template: ['realpath', '-m', '--', '<script…>'], program: '/usr/bin/realpath', mutates: false,
    runs: 'as the SSH user (or root with sudo)',
    purpose: 'track scripts with symlinks resolved: the path keepalived checks (enable_script_security)',
  },
  'stat-paths': {
    template: ['stat', '-c', STAT_FORMAT, '--', '<path…>'], program: '/usr/bin/stat', mutates: false,
    runs: 'as the SSH user (or root with sudo)',
    purpose: 'owner, group and mode of a track script and each directory above it (enable_script_security)',
  },
  'run-track-script': { template: ['<script>', '<args…>'], program: '<script>', mutates: false, runs: 'as the vrrp_script user', purpose: 'does this host pass the instance\'s track script' },
  'test-config': { template: ['keepalived', '-t', '-f', '<file>'], program: '/usr/sbin/keepalived', mutates: false, runs: 'as the SSH user (or root with sudo)', purpose: 'check a config file before installing it' },
  'backup-config': { template: ['cp', '-p', '--', '<from>', '<to>'], program: '/usr/bin/cp', mutates: true, runs: 'as the SSH user (or root with sudo)', purpose: 'back up the config; restore it onto the staging path' },
  'stage-config': { template: ['dd', 'of=<stagingPath>', 'status=none'], program: '/usr/bin/dd', mutates: true, runs: 'as the SSH user (or root with sudo)', purpose: 'write the new config (from stdin) next to the real one' },
  'install-config': { template: ['mv', '-f', '--', '<stagingPath>', '<configPath>'], program: '/usr/bin/mv', mutates: true, runs: 'as the SSH user (or root with sudo)', purpose: 'replace the config atomically (rename in one directory)' },
  'copy-owner': { template: ['chown', '--reference=<configPath>', '--', '<stagingPath>'], program: '/usr/bin/chown', mutates: true, runs: 'as the SSH user (or root with sudo)', purpose: 'give the staged file the config\'s owner' },
  'copy-mode': { template: ['chmod', '--reference=<configPath>', '--', '<stagingPath>'], program: '/usr/bin/chmod', mutates: true, runs: 'as the SSH user (or root with sudo)', purpose: 'give the staged file the config\'s mode' },
  'keepalived-version': { template: ['keepalived', '--version'], program: '/usr/sbin/keepalived', mutates: false, runs: 'as the SSH user (or root with sudo)', purpose: 'vipbot doctor: which keepalived the node runs' },
  'sudo-check': { template: ['sudo', '-n', '-l', '--', '<node command…>'], program: '/usr/bin/sudo', mutates: false, runs: 'as the SSH user (never through sudo)', purpose: 'vipbot doctor: would sudo -n allow this node command (lists it, runs nothing)' },
};

// ---------------------------------------------------------------------------------------------
// Argument grammar. Everything is quoted anyway; these refuse what no legitimate config contains,
// so a mistake or an injection attempt fails loudly instead of running something odd.

/** Absolute path of plain characters, no `.`/`..` segments (so a path cannot escape its directory). */
export const HostPath = z
  .string()
  .max(1024)
  .regex(/^(\/[A-Za-z0-9_.@+-]+)+$/, 'must be an absolute path of letters, digits and _ . @ + -')
  .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'must not contain . or .. segments');
export type HostPath = z.infer<typeof HostPath>;

/** A systemd unit name; cannot start with `-`, so it is never read as an option. */
export const ServiceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,254}$/, 'must be a systemd unit name');
export type ServiceName = z.infer<typeof ServiceName>;

/** A Unix user name as useradd accepts it by default. */
export const UnixUser = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Unix user name');
export type UnixUser = z.infer<typeof UnixUser>;

/** A group name: the same rule as user names. */
export const UnixGroup = UnixUser;

/** A path as `stat` may be given it: `/` itself or a HostPath. */
const StatPath = z.union([z.literal('/'), HostPath]);

/** A track-script argument: keepalived splits `script "…"` on blanks, so no blanks, quotes or shell syntax. */
export const ScriptArg = z.string().regex(/^[A-Za-z0-9_.,:=@%+/-]{1,256}$/, 'must be a plain word (letters, digits, _ . , : = @ % + / -)');

/** A track script's argv: absolute program path, then at most 32 plain words. */
export const TrackScriptArgv = z.tuple([HostPath], ScriptArg).refine((argv) => argv.length <= 33, 'has too many arguments');
export type TrackScriptArgv = z.infer<typeof TrackScriptArgv>;

/** The cgroup files the memory sampler reads: v2 `memory.current`/`memory.stat`, v1 `memory.usage_in_bytes`/`memory.stat`. */
export const CGROUP_MEMORY_FILES = ['memory.current', 'memory.stat', 'memory.usage_in_bytes'] as const;

/** A cgroup memory file: a plain path under /sys/fs/cgroup whose last segment is one of CGROUP_MEMORY_FILES. */
export const CgroupMemoryFilePath = HostPath
  .refine((p) => p.startsWith('/sys/fs/cgroup/'), 'must be under /sys/fs/cgroup/')
  .refine((p) => (CGROUP_MEMORY_FILES as readonly string[]).includes(posix.basename(p)), `must end in ${CGROUP_MEMORY_FILES.join(', ')}`);

/** A process id as the kernel hands them out (PID_MAX_LIMIT is 2^22). */
export const Pid = z.number().int().min(1).max(4_194_304);

/** At most 1 MiB on stdin: keepalived.conf is a few kB; more means something is wrong. */
const StageContent = z.string().max(1024 * 1024, 'is larger than 1 MiB');

function check<T>(schema: z.ZodType<T>, value: unknown, id: CommandId, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const shown = JSON.stringify(value) ?? String(value);
  throw new VipbotError(
    'node_command_invalid',
    `refusing to build ${id}: ${what} ${shown.length > 80 ? `${shown.slice(0, 77)}…` : shown} ${result.error.issues[0]?.message ?? 'is invalid'}`,
    'fix the value in vipbot.yaml or keepalived.conf; node commands take only plain absolute paths, unit names and user names',
  );
}

// Identity set of commands built here: `wrapCommand` (and so the pool) refuses any other object.
const issued = new WeakSet<NodeCommand>();

function issue(id: CommandId, argv: string[], extra: { stdin?: string; runAs?: string; runGroup?: string; asSshUser?: boolean } = {}): NodeCommand {
  const command: NodeCommand = Object.freeze({
    id,
    argv: Object.freeze([...argv]),
    mutates: CATALOG[id].mutates,
    ...(extra.asSshUser ? { asSshUser: true } : {}),
    ...(extra.stdin !== undefined ? { stdin: extra.stdin } : {}),
    ...(extra.runAs !== undefined ? { runAs: extra.runAs } : {}),
    ...(extra.runGroup !== undefined ? { runGroup: extra.runGroup } : {}),
  });
  issued.add(command);
  return command;
}

/** True for commands built by this module's builders (frozen, validated). */
export function isIssuedCommand(cmd: unknown): cmd is NodeCommand {
  return typeof cmd === 'object' && cmd !== null && issued.has(cmd as NodeCommand);
}

// ---------------------------------------------------------------------------------------------
// Builders: one per documented command.

/** `cat -- <path>`: keepalived.conf or its backup. */
export function readConfig(path: string): NodeCommand {
  return issue('read-config', ['cat', '--', check(HostPath, path, 'read-config', 'path')]);
}

/** `systemctl show --property=… <service>`: machine-readable `Key=Value` lines. */
export function serviceShow(service: string): NodeCommand {
  return issue('service-show', ['systemctl', 'show', `--property=${SERVICE_SHOW_PROPERTIES.join(',')}`, check(ServiceName, service, 'service-show', 'service')]);
}

/** `systemctl is-active <service>`: exit 0 when active; prints the state. */
export function serviceIsActive(service: string): NodeCommand {
  return issue('service-is-active', ['systemctl', 'is-active', check(ServiceName, service, 'service-is-active', 'service')]);
}

/** `systemctl start <service>`. */
export function serviceStart(service: string): NodeCommand {
  return issue('service-start', ['systemctl', 'start', check(ServiceName, service, 'service-start', 'service')]);
}

/** `systemctl stop <service>`. */
export function serviceStop(service: string): NodeCommand {
  return issue('service-stop', ['systemctl', 'stop', check(ServiceName, service, 'service-stop', 'service')]);
}

/** `systemctl restart <service>`. */
export function serviceRestart(service: string): NodeCommand {
  return issue('service-restart', ['systemctl', 'restart', check(ServiceName, service, 'service-restart', 'service')]);
}

/** `systemctl reload <service>`: keepalived re-reads its config on SIGHUP without dropping VIPs. */
export function serviceReload(service: string): NodeCommand {
  return issue('service-reload', ['systemctl', 'reload', check(ServiceName, service, 'service-reload', 'service')]);
}

/** `ps -o pid=,ppid=,rss=,vsz=,etimes=,args= -C keepalived`: no header; RSS/VSZ in KiB, etimes in s. */
export function listKeepalivedProcesses(): NodeCommand {
  return issue('list-keepalived-processes', ['ps', '-o', PS_FORMAT, '-C', 'keepalived']);
}

/** `ip -o addr show`: one line per address (no `ip -j`, missing from older iproute2). */
export function listAddresses(): NodeCommand {
  return issue('list-addresses', ['ip', '-o', 'addr', 'show']);
}

/**
 * `cat -- <file>` of the keepalived unit's memory cgroup (`memory.stat`, `memory.current` or
 * `memory.usage_in_bytes` under /sys/fs/cgroup). Read-only: the sampler uses it to split the unit's
 * memory into anonymous memory and page cache.
 */
export function readCgroupMemoryFile(path: string): NodeCommand {
  return issue('read-cgroup-memory', ['cat', '--', check(CgroupMemoryFilePath, path, 'read-cgroup-memory', 'path')]);
}

/** `cat -- /proc/<pid>/smaps_rollup`: Pss_Anon of one keepalived process (root, or the process's owner, may read it). */
export function readSmapsRollup(pid: number): NodeCommand {
  return issue('read-smaps-rollup', ['cat', '--', `/proc/${check(Pid, pid, 'read-smaps-rollup', 'pid')}/smaps_rollup`]);
}

/** `keepalived --version` (it prints to stderr): for vipbot doctor. */
export function keepalivedVersion(): NodeCommand {
  return issue('keepalived-version', ['keepalived', '--version']);
}

/**
 * `sudo -n -l -- <command>`: exit 0 when sudo would let the SSH user run that node command without a
 * password, non-zero otherwise; runs nothing on the host. For vipbot doctor's sudo check.
 */
export function sudoCheck(cmd: NodeCommand): NodeCommand {
  if (!isIssuedCommand(cmd) || cmd.asSshUser) {
    throw new VipbotError('node_command_invalid', 'refusing to ask sudo about a command not built by src/hosts/node-commands.ts', 'pass a node command');
  }
  const runAs = cmd.runAs ? ['-u', cmd.runAs, ...(cmd.runGroup ? ['-g', cmd.runGroup] : [])] : [];
  return issue('sudo-check', ['sudo', '-n', ...runAs, '-l', '--', ...cmd.argv], { asSshUser: true });
}

/** At most this many names or paths in one lookup: a keepalived.conf has a handful of scripts. */
const MAX_LOOKUP_WORDS = 64;

function checkList(schema: z.ZodType<string>, values: readonly string[], id: CommandId, what: string): string[] {
  if (values.length === 0 || values.length > MAX_LOOKUP_WORDS) {
    const message = `refusing to build ${id}: ${values.length} ${what}s (1 to ${MAX_LOOKUP_WORDS} allowed)`;
    throw new VipbotError('node_command_invalid', message, 'look up fewer names at once');
  }
  return values.map((v) => check(schema, v, id, what));
}

/** `getent passwd <user>…`: one passwd line per user that exists (exit 2 when some do not). */
export function lookupUsers(users: readonly string[]): NodeCommand {
  return issue('lookup-users', ['getent', 'passwd', ...checkList(UnixUser, users, 'lookup-users', 'user')]);
}

/** `getent group <group>…`: one group line per group that exists (exit 2 when some do not). */
export function lookupGroups(groups: readonly string[]): NodeCommand {
  return issue('lookup-groups', ['getent', 'group', ...checkList(UnixGroup, groups, 'lookup-groups', 'group')]);
}

/** `realpath -m -- <path>…`: one resolved path per line, in order, whether or not it exists (stat says that). */
export function resolvePaths(paths: readonly string[]): NodeCommand {
  return issue('resolve-paths', ['realpath', '-m', '--', ...checkList(HostPath, paths, 'resolve-paths', 'path')]);
}

/** `stat -c %u:%g:%f:%n -- <path>…`: the entries themselves (symlinks not followed), one line each that exists. */
export function statPaths(paths: readonly string[]): NodeCommand {
  return issue('stat-paths', ['stat', '-c', STAT_FORMAT, '--', ...checkList(StatPath, paths, 'stat-paths', 'path')]);
}

/**
 * A vrrp_script's `script`, as the user (and group) keepalived runs it as (`undefined` = the SSH
 * user, or root under sudo). The exit code is the answer, so read `code` of the result.
 */
export function runTrackScript(user: string | undefined, argv: readonly string[], group?: string): NodeCommand {
  const checkedArgv = check(TrackScriptArgv, argv, 'run-track-script', 'argv');
  const runAs = user === undefined ? undefined : check(UnixUser, user, 'run-track-script', 'user');
  if (group !== undefined && runAs === undefined) {
    throw new VipbotError('node_command_invalid', 'refusing to build run-track-script: a group without a user', 'name its user too');
  }
  const runGroup = group === undefined ? undefined : check(UnixGroup, group, 'run-track-script', 'group');
  const as = { ...(runAs !== undefined ? { runAs } : {}), ...(runGroup !== undefined ? { runGroup } : {}) };
  return issue('run-track-script', [...checkedArgv], as);
}

/** `keepalived -t -f <file>`: exit codes differ across keepalived versions, compare with the current file. */
export function testConfig(file: string): NodeCommand {
  return issue('test-config', ['keepalived', '-t', '-f', check(HostPath, file, 'test-config', 'file')]);
}

/** `cp -p -- <from> <to>`: keeps owner, mode and timestamps. */
export function backupConfig(path: string, backupPath: string): NodeCommand {
  return issue('backup-config', ['cp', '-p', '--', check(HostPath, path, 'backup-config', 'path'), check(HostPath, backupPath, 'backup-config', 'backupPath')]);
}

/**
 * `dd of=<stagingPath> status=none` with the new config on stdin. dd rather than `tee` so nothing is
 * echoed back, and rather than a shell redirect so no shell syntax is needed.
 */
export function stageConfig(stagingPath: string, content: string): NodeCommand {
  const path = check(HostPath, stagingPath, 'stage-config', 'stagingPath');
  return issue('stage-config', ['dd', `of=${path}`, 'status=none'], { stdin: check(StageContent, content, 'stage-config', 'content') });
}

/** `mv -f -- <staged> <path>`: atomic only within one directory, so other directories are refused. */
export function installConfig(stagingPath: string, path: string): NodeCommand {
  const from = check(HostPath, stagingPath, 'install-config', 'stagingPath');
  const to = check(HostPath, path, 'install-config', 'path');
  if (posix.dirname(from) !== posix.dirname(to)) {
    throw new VipbotError('node_command_invalid', `refusing to build install-config: ${from} and ${to} are in different directories`, 'stage the new file next to the config so the rename is atomic (see stagingPathFor)');
  }
  return issue('install-config', ['mv', '-f', '--', from, to]);
}

/** `chown --reference=<ref> -- <file>` and `chmod --reference=<ref> -- <file>`, in that order. */
export function copyOwnerMode(referencePath: string, file: string): [NodeCommand, NodeCommand] {
  const ref = check(HostPath, referencePath, 'copy-owner', 'referencePath');
  const target = check(HostPath, file, 'copy-owner', 'file');
  return [issue('copy-owner', ['chown', `--reference=${ref}`, '--', target]), issue('copy-mode', ['chmod', `--reference=${ref}`, '--', target])];
}

/** Where the new config is written before the atomic rename: next to the config. */
export function stagingPathFor(configPath: string): string {
  return `${check(HostPath, configPath, 'stage-config', 'configPath')}.vipbot-new`;
}

/** Where the config is backed up before a change (one backup; the audit log keeps every diff). */
export function backupPathFor(configPath: string): string {
  return `${check(HostPath, configPath, 'backup-config', 'configPath')}.vipbot-backup`;
}

/** `YYYYMMDDTHHMMSSZ` in UTC: sorts by time, has no `:` (sudoers would need it escaped), fits HostPath. */
export function formatBackupTimestamp(at: Date): string {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    throw new VipbotError('node_command_invalid', 'refusing to build a backup path: the time is not a valid date', 'pass the time of the change (a valid Date)');
  }
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/**
 * Where the config is backed up before a change made at `at`: `<configPath>.vipbot-<YYYYMMDDTHHMMSSZ>`
 * (UTC). One file per change, so a second change never overwrites the backup of the first, and the
 * name says when it was taken. The sudoers example allows exactly this shape (see `sudoersExample`).
 */
export function timestampedBackupPathFor(configPath: string, at: Date): string {
  return `${check(HostPath, configPath, 'backup-config', 'configPath')}.vipbot-${formatBackupTimestamp(at)}`;
}

/**
 * sudoers glob for any `timestampedBackupPathFor(configPath, …)`: each digit as `[0-9]` rather than
 * `*`, because a sudoers `*` also matches spaces and would let extra arguments through
 * (`cp -p -- conf conf.vipbot-1 /etc/x`).
 */
function timestampedBackupPattern(configPath: string): string {
  const digits = (n: number) => '[0-9]'.repeat(n);
  return `${check(HostPath, configPath, 'backup-config', 'configPath')}.vipbot-${digits(8)}T${digits(6)}Z`;
}

// ---------------------------------------------------------------------------------------------
// Quoting and wrapping.

/** POSIX sh single-quoting: `'` closes the quote, `\'` adds a literal quote, `'` reopens. Safe for any byte but NUL. */
export function quoteShellWord(word: string): string {
  if (word.includes('\0')) throw new VipbotError('node_command_invalid', 'refusing to quote a string with a NUL byte', 'NUL cannot pass through a command line');
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** SIGKILL this long after SIGTERM when the command ignores TERM (a stuck script, a D-state read). */
export const KILL_AFTER_SECONDS = 2;

/** Options for `wrapCommand`. */
export interface WrapOptions {
  /** Prefix the real command with `sudo -n` (`ssh.sudo`). */
  sudo: boolean;
  /** Host-side limit (`ssh.commandTimeout`); rounded up to whole seconds, at least 1. */
  timeoutMs: number;
}

/** Seconds given to `timeout` for a commandTimeout. */
export function timeoutSeconds(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs / 1000));
}

/**
 * The single string given to SSH exec (the remote login shell parses it):
 * `timeout --kill-after=2 <secs> [sudo -n [-u <user> [-g <group>]] -- | runuser -u <user> [-g <group>] --] argv…`, every word
 * single-quoted. `timeout` sits outside sudo so sudoers lists only the real commands, and so the
 * limit holds even when sudo itself hangs (e.g. a slow LDAP lookup).
 */
export function wrapCommand(cmd: NodeCommand, options: WrapOptions): string {
  if (!isIssuedCommand(cmd)) {
    throw new VipbotError('node_command_invalid', 'refusing to run a command that was not built by src/hosts/node-commands.ts', 'only documented node commands may run on a host');
  }
  const words = ['timeout', `--kill-after=${KILL_AFTER_SECONDS}`, String(timeoutSeconds(options.timeoutMs))];
  const group = cmd.runGroup ? ['-g', cmd.runGroup] : [];
  // asSshUser: the command asks sudo itself, so no sudo/runuser goes in front of it.
  if (!cmd.asSshUser && options.sudo) words.push('sudo', '-n', ...(cmd.runAs ? ['-u', cmd.runAs, ...group] : []), '--');
  else if (!cmd.asSshUser && cmd.runAs) words.push('runuser', '-u', cmd.runAs, ...group, '--');
  words.push(...cmd.argv);
  return words.map(quoteShellWord).join(' ');
}

/** A readable one-line form for audit entries and logs: quotes only words that need it. */
export function formatCommand(cmd: NodeCommand): string {
  const as = cmd.runAs ? [`(as ${cmd.runAs}${cmd.runGroup ? `:${cmd.runGroup}` : ''})`] : [];
  return [...as, ...cmd.argv.map((w) => (/^[A-Za-z0-9_.,:=@%+/-]+$/.test(w) ? w : quoteShellWord(w)))].join(' ');
}

// ---------------------------------------------------------------------------------------------
// Documentation: the README table and a sudoers file that allows exactly these commands.

/** Every command vipbot may run, with placeholders: the README table is generated from this. */
export function documentedCommands(): CommandTemplate[] {
  return CommandId.options.map((id) => ({ id, ...CATALOG[id], template: [...CATALOG[id].template] }));
}

/** The README's table of node commands (markdown), generated so it cannot drift from the code. */
export function renderCommandsMarkdown(): string {
  const rows = documentedCommands().map((c) => `| \`${c.id}\` | \`${c.template.join(' ')}\` | ${c.runs} | ${c.mutates ? 'yes' : 'no'} | ${c.purpose} |`);
  return ['| id | command | runs | changes the host | why |', '|---|---|---|---|---|', ...rows].join('\n') + '\n';
}

/** A track script to allow in the sudoers example. */
export interface SudoersTrackScript {
  /** The user keepalived runs it as; absent = root. */
  user?: string;
  /** The group, when the config names one (`user USER GROUP`). */
  group?: string;
  argv: readonly string[];
}

/** The cgroup mount; v1 mounts each controller in its own directory below it. */
const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * Where a unit's cgroup memory file lives: v2 `/sys/fs/cgroup<ControlGroup>/<file>`, v1
 * `/sys/fs/cgroup/memory<ControlGroup>/<file>` (systemd's ControlGroup is the same path in every
 * hierarchy). `current` is `memory.current` on v2 and `memory.usage_in_bytes` on v1.
 */
export function cgroupMemoryFilePath(version: 'v1' | 'v2', controlGroup: string, file: 'stat' | 'current'): string {
  const dir = version === 'v2' ? `${CGROUP_ROOT}${controlGroup}` : `${CGROUP_ROOT}/memory${controlGroup}`;
  const name = file === 'stat' ? 'memory.stat' : version === 'v2' ? 'memory.current' : 'memory.usage_in_bytes';
  // ControlGroup "/" (a unit in the root cgroup) must not yield a double slash.
  return `${dir.replace(/\/$/, '')}/${name}`;
}

/** What `sudoersExample` needs to know about a node: `KeepalivedSettings` fits. */
export interface SudoersSettings {
  configPath: string;
  service: string;
  /** The unit's ControlGroup as `systemctl show` reports it; default systemd's `/system.slice/<unit>`. */
  controlGroup?: string;
  /** The track scripts of the node's vrrp_scripts, if they should be allowed too. */
  trackScripts?: readonly SudoersTrackScript[];
  /**
   * Exactly the commands a status collection issued for the node's track scripts (the look-ups of
   * users, groups and paths, and the runs): `vipbot sudoers` takes them from `collectNodeFacts`.
   */
  trackScriptCommands?: readonly NodeCommand[];
}

/** In sudoers, `,` `:` `=` and `\` inside arguments must be backslash-escaped. */
function sudoersEscape(word: string): string {
  return word.replace(/[\\,:=]/g, (c) => `\\${c}`);
}

/** The first item of each key, in order. */
function unique<T>(items: readonly T[], key: (item: T) => string): T[] {
  const first = new Map<string, T>();
  for (const item of items) if (!first.has(key(item))) first.set(key(item), item);
  return [...first.values()];
}

function sudoersLine(cmd: NodeCommand): string {
  const [name, ...args] = cmd.argv;
  const program = cmd.id === 'run-track-script' ? (name ?? '') : CATALOG[cmd.id].program;
  return [program, ...args.map(sudoersEscape)].join(' ');
}

/**
 * A sudoers drop-in (for /etc/sudoers.d/vipbot, check with `visudo -cf`) that lets `user` run exactly
 * the node commands for one config path and service, with the staging/backup paths vipbot uses
 * (`.vipbot-new`, `.vipbot-backup` and the timestamped `.vipbot-<YYYYMMDDTHHMMSSZ>` backups), and
 * the given track scripts as their users. Program paths are Debian 12 / RHEL 9's; sudo compares by
 * inode too, so /usr/sbin/ip matches /usr/bin/ip where one links to the other.
 */
export function sudoersExample(user: string, settings: SudoersSettings): string {
  const sshUser = check(UnixUser, user, 'run-track-script', 'sudo user');
  const conf = settings.configPath;
  const staging = stagingPathFor(conf);
  const backup = backupPathFor(conf);
  // Timestamped backups cannot be built as commands (the name holds a glob), so their lines are
  // written from the same templates: back up to, read and restore from `<conf>.vipbot-<timestamp>`.
  const stamped = timestampedBackupPattern(conf);
  const cp = CATALOG['backup-config'].program;
  const readStamped = `${CATALOG['read-config'].program} -- ${sudoersEscape(stamped)}`;
  const changeStamped = [
    `${cp} -p -- ${sudoersEscape(conf)} ${sudoersEscape(stamped)}`,
    `${cp} -p -- ${sudoersEscape(stamped)} ${sudoersEscape(staging)}`,
  ];
  // Memory sampling: the unit's cgroup files (v2 then v1 layout) under its ControlGroup (read from
  // the node by `vipbot sudoers`, else where systemd puts a unit by default), and smaps_rollup of any
  // pid of 1–7 digits, each digit as `[0-9]` for the same reason as the backups (a `*` would admit
  // extra arguments).
  const unit = settings.service.includes('.') ? settings.service : `${settings.service}.service`;
  const controlGroup = settings.controlGroup ?? `/system.slice/${unit}`;
  const memoryReads: (NodeCommand | string)[] = [
    ...(['v2', 'v1'] as const).flatMap((v) => (['current', 'stat'] as const).map((f) => readCgroupMemoryFile(cgroupMemoryFilePath(v, controlGroup, f)))),
    ...[1, 2, 3, 4, 5, 6, 7].map((n) => `${CATALOG['read-smaps-rollup'].program} -- /proc/${'[0-9]'.repeat(n)}/smaps_rollup`),
  ];
  const read: (NodeCommand | string)[] = [
    readConfig(conf),
    readConfig(backup),
    readStamped,
    serviceShow(settings.service),
    serviceIsActive(settings.service),
    listKeepalivedProcesses(),
    ...memoryReads,
    listAddresses(),
    testConfig(conf),
    testConfig(staging),
    keepalivedVersion(),
  ];
  const change: (NodeCommand | string)[] = [
    serviceStart(settings.service),
    serviceStop(settings.service),
    serviceRestart(settings.service),
    serviceReload(settings.service),
    backupConfig(conf, backup),
    backupConfig(backup, staging),
    ...changeStamped,
    stageConfig(staging, ''),
    ...copyOwnerMode(conf, staging),
    installConfig(staging, conf),
  ];
  const scriptCommands = [
    ...(settings.trackScripts ?? []).map((script) => runTrackScript(script.user, script.argv, script.group)),
    ...(settings.trackScriptCommands ?? []).map((cmd) => {
      if (!isIssuedCommand(cmd)) {
        const message = 'refusing to allow a command not built by src/hosts/node-commands.ts';
        throw new VipbotError('node_command_invalid', message, 'pass the commands collectNodeFacts issued');
      }
      return cmd;
    }),
  ];
  read.push(...unique(scriptCommands.filter((c) => c.id !== 'run-track-script'), sudoersLine));
  const alias = (name: string, cmds: (NodeCommand | string)[]) =>
    `Cmnd_Alias ${name} = ${cmds.map((c) => (typeof c === 'string' ? c : sudoersLine(c))).join(', \\\n    ')}`;
  const lines = [
    `# /etc/sudoers.d/vipbot — generated by vipbot (sudoersExample); check with: visudo -cf /etc/sudoers.d/vipbot`,
    `# vipbot runs every node command as: timeout --kill-after=${KILL_AFTER_SECONDS} <secs> sudo -n [-u <user>] -- <command>`,
    `Defaults:${sshUser} !requiretty`,
    alias('VIPBOT_READ', read),
    alias('VIPBOT_CHANGE', change),
    `${sshUser} ALL = (root) NOPASSWD: VIPBOT_READ, VIPBOT_CHANGE`,
  ];
  const byUser = new Map<string, NodeCommand[]>();
  const runs = unique(scriptCommands.filter((c) => c.id === 'run-track-script'), (c) => `${c.runAs}:${c.runGroup}:${sudoersLine(c)}`);
  for (const cmd of runs) {
    // sudoers names a runas group after the user: (oracle : oinstall).
    const runAs = `${cmd.runAs ?? 'root'}${cmd.runGroup ? ` : ${cmd.runGroup}` : ''}`;
    byUser.set(runAs, [...(byUser.get(runAs) ?? []), cmd]);
  }
  for (const [runAs, cmds] of byUser) {
    // sudoers: an argv with no arguments must say "" or it would allow any arguments.
    lines.push(`${sshUser} ALL = (${runAs}) NOPASSWD: ${cmds.map((c) => (c.argv.length === 1 ? `${sudoersLine(c)} ""` : sudoersLine(c))).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VipbotError } from '../../../src/errors.ts';
import {
  backupConfig,
  backupPathFor,
  CommandId,
  copyOwnerMode,
  documentedCommands,
  formatCommand,
  installConfig,
  isIssuedCommand,
  listAddresses,
  listKeepalivedProcesses,
  quoteShellWord,
  readCgroupMemoryFile,
  readConfig,
  readSmapsRollup,
  renderCommandsMarkdown,
  keepalivedVersion,
  sudoCheck,
  runTrackScript,
  lookupUsers,
  lookupGroups,
  resolvePaths,
  statPaths,
  serviceIsActive,
  serviceReload,
  serviceRestart,
  serviceShow,
  serviceStart,
  serviceStop,
  stageConfig,
  stagingPathFor,
  sudoersExample,
  testConfig,
  timeoutSeconds,
  timestampedBackupPathFor,
  wrapCommand,
  type NodeCommand,
} from '../../../src/hosts/node-commands.ts';

const CONF = '/etc/keepalived/keepalived.conf';
const HOSTILE = [
  '',
  ' ',
  'a b',
  "it's",
  "'",
  "''",
  '"',
  '; rm -rf /',
  '$(reboot)',
  '`reboot`',
  '${HOME}',
  '$HOME',
  'a\nb',
  '\n',
  'tab\there',
  '\\',
  '\\\'',
  '*',
  '~root',
  '!!',
  '-rf',
  '--',
  '&& echo pwned',
  '| cat /etc/shadow',
  '> /etc/passwd',
  'ünïcødé ✓',
  "'\"'\"'",
];

/** Runs `printf '%s\0' <quoted words…>` through a real shell and returns the words it saw. */
function throughShell(shell: string, words: string[]): string[] {
  const script = ['printf', '%s\\0', ...words].map(quoteShellWord).join(' ');
  const out = execFileSync(shell, ['-c', script], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('quoteShellWord', () => {
  it.each([
    ['plain', "'plain'"],
    ['', "''"],
    ["it's", "'it'\\''s'"],
    ['$(x)', "'$(x)'"],
    ['a\nb', "'a\nb'"],
  ])('%j → %s', (word, quoted) => {
    expect(quoteShellWord(word)).toBe(quoted);
  });

  const shells = ['/bin/sh', '/bin/bash', '/bin/dash'].filter((s) => existsSync(s));
  it.each(shells)('every hostile word reaches the program unchanged through %s', (shell) => {
    expect(throughShell(shell, HOSTILE)).toEqual(HOSTILE);
  });

  it('refuses NUL, which no command line can carry', () => {
    expect(() => quoteShellWord('a\0b')).toThrow(VipbotError);
  });
});

describe('builders', () => {
  it.each<[string, NodeCommand, string[]]>([
    ['readConfig', readConfig(CONF), ['cat', '--', CONF]],
    ['serviceShow', serviceShow('keepalived'), ['systemctl', 'show', '--property=Id,ActiveState,SubState,MainPID,MemoryCurrent,ExecMainStartTimestamp,ActiveEnterTimestamp,NRestarts,ControlGroup', 'keepalived']],
    ['serviceIsActive', serviceIsActive('keepalived.service'), ['systemctl', 'is-active', 'keepalived.service']],
    ['serviceStart', serviceStart('keepalived'), ['systemctl', 'start', 'keepalived']],
    ['serviceStop', serviceStop('keepalived'), ['systemctl', 'stop', 'keepalived']],
    ['serviceRestart', serviceRestart('keepalived'), ['systemctl', 'restart', 'keepalived']],
    ['serviceReload', serviceReload('keepalived@vi1'), ['systemctl', 'reload', 'keepalived@vi1']],
    ['listKeepalivedProcesses', listKeepalivedProcesses(), ['ps', '-o', 'pid=,ppid=,rss=,vsz=,etimes=,args=', '-C', 'keepalived']],
    ['listAddresses', listAddresses(), ['ip', '-o', 'addr', 'show']],
    ['readCgroupMemoryFile v2', readCgroupMemoryFile('/sys/fs/cgroup/system.slice/keepalived.service/memory.stat'), ['cat', '--', '/sys/fs/cgroup/system.slice/keepalived.service/memory.stat']],
    ['readCgroupMemoryFile v1', readCgroupMemoryFile('/sys/fs/cgroup/memory/vipbot-lab/node1/memory.usage_in_bytes'), ['cat', '--', '/sys/fs/cgroup/memory/vipbot-lab/node1/memory.usage_in_bytes']],
    ['readSmapsRollup', readSmapsRollup(23147), ['cat', '--', '/proc/23147/smaps_rollup']],
    ['runTrackScript', runTrackScript('oracle', ['/etc/keepalived/primary_check.sh', 'ORCL', '--role=primary']), ['/etc/keepalived/primary_check.sh', 'ORCL', '--role=primary']],
    ['runTrackScript with a group', runTrackScript('oracle', ['/etc/keepalived/check.sh'], 'dba'), ['/etc/keepalived/check.sh']],
    ['lookupUsers', lookupUsers(['keepalived_script', 'oracle']), ['getent', 'passwd', 'keepalived_script', 'oracle']],
    ['lookupGroups', lookupGroups(['dba']), ['getent', 'group', 'dba']],
    ['resolvePaths', resolvePaths(['/etc/keepalived/a.sh', '/bin/pidof']), ['realpath', '-m', '--', '/etc/keepalived/a.sh', '/bin/pidof']],
    ['statPaths', statPaths(['/', '/etc', '/etc/keepalived']), ['stat', '-c', '%u:%g:%f:%n', '--', '/', '/etc', '/etc/keepalived']],
    ['testConfig', testConfig(`${CONF}.vipbot-new`), ['keepalived', '-t', '-f', `${CONF}.vipbot-new`]],
    ['backupConfig', backupConfig(CONF, `${CONF}.vipbot-backup`), ['cp', '-p', '--', CONF, `${CONF}.vipbot-backup`]],
    ['stageConfig', stageConfig(`${CONF}.vipbot-new`, 'global_defs {}\n'), ['dd', `of=${CONF}.vipbot-new`, 'status=none']],
    ['installConfig', installConfig(`${CONF}.vipbot-new`, CONF), ['mv', '-f', '--', `${CONF}.vipbot-new`, CONF]],
    ['copyOwnerMode[0]', copyOwnerMode(CONF, `${CONF}.vipbot-new`)[0], ['chown', `--reference=${CONF}`, '--', `${CONF}.vipbot-new`]],
    ['copyOwnerMode[1]', copyOwnerMode(CONF, `${CONF}.vipbot-new`)[1], ['chmod', `--reference=${CONF}`, '--', `${CONF}.vipbot-new`]],
  ])('%s', (_name, cmd, argv) => {
    expect(cmd.argv).toEqual(argv);
    expect(isIssuedCommand(cmd)).toBe(true);
    expect(Object.isFrozen(cmd)).toBe(true);
    expect(Object.isFrozen(cmd.argv)).toBe(true);
  });

  it('every builder output matches its documented template', () => {
    const templates = new Map(documentedCommands().map((t) => [t.id, t]));
    const samples = [
      readConfig(CONF), serviceShow('keepalived'), serviceIsActive('keepalived'), serviceStart('keepalived'), serviceStop('keepalived'),
      serviceRestart('keepalived'), serviceReload('keepalived'), listKeepalivedProcesses(), listAddresses(), testConfig(CONF),
      backupConfig(CONF, '/tmp/b'), stageConfig('/etc/keepalived/n', 'x'), installConfig('/etc/keepalived/n', CONF), ...copyOwnerMode(CONF, '/etc/keepalived/n'),
      runTrackScript(undefined, ['/bin/true']), readCgroupMemoryFile('/sys/fs/cgroup/system.slice/keepalived.service/memory.current'), readSmapsRollup(1),
      lookupUsers(['oracle']), lookupGroups(['dba']), resolvePaths(['/bin/true']), statPaths(['/bin/true']),
      keepalivedVersion(), sudoCheck(readConfig(CONF)),
    ];
    expect(new Set(samples.map((s) => s.id))).toEqual(new Set(CommandId.options));
    for (const cmd of samples) {
      const template = templates.get(cmd.id)!.template;
      if (cmd.id === 'run-track-script') continue;
      // sudo-check carries the command it asks about after its own words.
      if (cmd.id === 'sudo-check') {
        expect(cmd.argv).toEqual(['sudo', '-n', '-l', '--', 'cat', '--', CONF]);
        continue;
      }
      expect(cmd.argv.length, cmd.id).toBe(template.length);
      cmd.argv.forEach((word, i) => {
        const t = template[i]!;
        // Placeholders may be embedded (`of=<stagingPath>`): the literal parts must match exactly.
        const pattern = new RegExp(`^${t.split(/<[^>]+>/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`);
        expect(word, `${cmd.id} word ${i}`).toMatch(pattern);
      });
    }
  });

  it('marks what changes the host', () => {
    expect(readConfig(CONF).mutates).toBe(false);
    expect(runTrackScript(undefined, ['/bin/true']).mutates).toBe(false);
    expect(serviceStop('keepalived').mutates).toBe(true);
    expect(installConfig('/etc/keepalived/n', CONF).mutates).toBe(true);
  });

  it('carries stdin and the script user', () => {
    expect(stageConfig('/etc/keepalived/n', 'vrrp_instance VI_1 {}\n').stdin).toBe('vrrp_instance VI_1 {}\n');
    expect(runTrackScript('oracle', ['/bin/true']).runAs).toBe('oracle');
    expect(runTrackScript(undefined, ['/bin/true'])).not.toHaveProperty('runAs');
    expect(runTrackScript('oracle', ['/bin/true'], 'dba')).toMatchObject({ runAs: 'oracle', runGroup: 'dba' });
    expect(runTrackScript('oracle', ['/bin/true'])).not.toHaveProperty('runGroup');
  });

  it('derives the staging and backup paths next to the config', () => {
    expect(stagingPathFor(CONF)).toBe(`${CONF}.vipbot-new`);
    expect(backupPathFor(CONF)).toBe(`${CONF}.vipbot-backup`);
  });

  it.each<[string, Date, string]>([
    ['UTC, seconds kept, milliseconds dropped', new Date('2025-01-08T07:12:41.987Z'), `${CONF}.vipbot-20250108T071241Z`],
    ['a local offset is turned into UTC', new Date('2025-01-08T10:12:41+03:00'), `${CONF}.vipbot-20250108T071241Z`],
    ['midnight at the new year', new Date(Date.UTC(2025, 0, 1, 0, 0, 0)), `${CONF}.vipbot-20250101T000000Z`],
  ])('timestampedBackupPathFor: %s', (_what, at, path) => {
    expect(timestampedBackupPathFor(CONF, at)).toBe(path);
    // The result is a plain path the builders accept, and it sorts by time.
    expect(backupConfig(CONF, path).argv).toEqual(['cp', '-p', '--', CONF, path]);
    expect(backupConfig(path, stagingPathFor(CONF)).argv.at(-2)).toBe(path);
  });

  it('timestampedBackupPathFor refuses an invalid date or path', () => {
    expect(() => timestampedBackupPathFor(CONF, new Date('not a date'))).toThrow(VipbotError);
    expect(() => timestampedBackupPathFor('keepalived.conf', new Date())).toThrow(VipbotError);
  });
});

describe('refusals', () => {
  const refused = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(VipbotError);
      return (err as VipbotError).code;
    }
    return 'accepted';
  };

  it.each<[string, () => unknown]>([
    ['relative path', () => readConfig('etc/keepalived.conf')],
    ['path with ..', () => readConfig('/etc/keepalived/../shadow')],
    ['path with .', () => readConfig('/etc/./shadow')],
    ['path with a space', () => readConfig('/etc/keep alived.conf')],
    ['path with ;', () => readConfig('/etc/k.conf;reboot')],
    ['path with $()', () => readConfig('/etc/$(reboot)')],
    ['path with a newline', () => readConfig('/etc/k.conf\n/etc/shadow')],
    ['path with a quote', () => readConfig("/etc/k'.conf")],
    ['root alone', () => readConfig('/')],
    ['trailing slash', () => readConfig('/etc/keepalived/')],
    ['double slash', () => readConfig('/etc//keepalived.conf')],
    ['not a string', () => readConfig(42 as unknown as string)],
    ['service starting with -', () => serviceStop('--all')],
    ['service with a space', () => serviceStop('keepalived; reboot')],
    ['service with a slash', () => serviceStop('../keepalived')],
    ['empty service', () => serviceStart('')],
    ['script user with a space', () => runTrackScript('oracle root', ['/bin/true'])],
    ['script user upper case', () => runTrackScript('Oracle', ['/bin/true'])],
    ['script user starting with -', () => runTrackScript('-u', ['/bin/true'])],
    ['script relative', () => runTrackScript(undefined, ['primary_check.sh'])],
    ['script via PATH', () => runTrackScript(undefined, ['sh', '-c', 'reboot'])],
    ['script empty argv', () => runTrackScript(undefined, [])],
    ['script arg with a space', () => runTrackScript(undefined, ['/bin/check', 'a b'])],
    ['script arg with $()', () => runTrackScript(undefined, ['/bin/check', '$(reboot)'])],
    ['script arg with backticks', () => runTrackScript(undefined, ['/bin/check', '`reboot`'])],
    ['script arg with ;', () => runTrackScript(undefined, ['/bin/check', ';reboot'])],
    ['script arg with a quote', () => runTrackScript(undefined, ['/bin/check', "'"])],
    ['script arg with a newline', () => runTrackScript(undefined, ['/bin/check', 'a\nb'])],
    ['script arg empty', () => runTrackScript(undefined, ['/bin/check', ''])],
    ['script with 33 args', () => runTrackScript(undefined, ['/bin/check', ...Array.from({ length: 33 }, () => 'x')])],
    ['script group without a user', () => runTrackScript(undefined, ['/bin/true'], 'dba')],
    ['script group with a space', () => runTrackScript('oracle', ['/bin/true'], 'dba wheel')],
    ['script group starting with -', () => runTrackScript('oracle', ['/bin/true'], '-g')],
    ['lookup of no user', () => lookupUsers([])],
    ['lookup of an option', () => lookupUsers(['--service=files'])],
    ['lookup of a user with a colon', () => lookupUsers(['oracle:x'])],
    ['lookup of a group with a space', () => lookupGroups(['a b'])],
    ['lookup of 65 users', () => lookupUsers(Array.from({ length: 65 }, (_, i) => `u${i}`))],
    ['realpath of a relative path', () => resolvePaths(['bin/true'])],
    ['realpath of root alone', () => resolvePaths(['/'])],
    ['stat of a path with ..', () => statPaths(['/etc/../shadow'])],
    ['stat of an option', () => statPaths(['-L'])],
    ['stat of nothing', () => statPaths([])],
    ['install across directories', () => installConfig('/tmp/new.conf', CONF)],
    ['stage more than 1 MiB', () => stageConfig('/etc/keepalived/n', 'x'.repeat(1024 * 1024 + 1))],
    ['backup to a relative path', () => backupConfig(CONF, 'backup.conf')],
    ['chown reference with ..', () => copyOwnerMode('/etc/../x', CONF)],
    ['cgroup file outside /sys/fs/cgroup', () => readCgroupMemoryFile('/etc/memory.stat')],
    ['cgroup path escaping with ..', () => readCgroupMemoryFile('/sys/fs/cgroup/../../etc/memory.stat')],
    ['cgroup file that is not a memory file', () => readCgroupMemoryFile('/sys/fs/cgroup/system.slice/keepalived.service/cgroup.procs')],
    ['cgroup memory file name as a directory', () => readCgroupMemoryFile('/sys/fs/cgroup/memory.stat/x')],
    ['cgroup path with a space', () => readCgroupMemoryFile('/sys/fs/cgroup/a b/memory.stat')],
    ['cgroup path with an escaped unit name', () => readCgroupMemoryFile('/sys/fs/cgroup/system.slice/a\\x2db.service/memory.stat')],
    ['smaps of pid 0', () => readSmapsRollup(0)],
    ['smaps of a negative pid', () => readSmapsRollup(-1)],
    ['smaps of a fractional pid', () => readSmapsRollup(1.5)],
    ['smaps of a pid past PID_MAX_LIMIT', () => readSmapsRollup(4_194_305)],
    ['smaps of a pid given as text', () => readSmapsRollup('1/../self' as unknown as number)],
  ])('refuses %s', (_what, fn) => {
    expect(refused(fn)).toBe('node_command_invalid');
  });

  it('accepts the plain forms a keepalived.conf uses', () => {
    expect(refused(() => runTrackScript('keepalived_script', ['/usr/libexec/keepalived/check_ora.sh', '-q', 'ORCL', 'role=primary', '5s', 'a,b:c', '50%', 'x+y', 'u@h']))).toBe('accepted');
    expect(refused(() => readConfig('/etc/keepalived/keepalived.conf.2024-01-01_12-00@bak+1'))).toBe('accepted');
  });

  it('says what was refused and why, without echoing more than 80 characters', () => {
    const err = (() => {
      try {
        readConfig(`/etc/${'x'.repeat(200)} y`);
      } catch (e) {
        return e as VipbotError;
      }
      throw new Error('not refused');
    })();
    expect(err.message).toMatch(/^refusing to build read-config: path "\/etc\/x+… must be an absolute path/);
    expect(err.message.length).toBeLessThan(200);
  });
});

describe('wrapCommand', () => {
  it.each<[string, NodeCommand, { sudo: boolean; timeoutMs: number }, string]>([
    ['as root', readConfig(CONF), { sudo: false, timeoutMs: 30_000 }, `'timeout' '--kill-after=2' '30' 'cat' '--' '${CONF}'`],
    ['with sudo', readConfig(CONF), { sudo: true, timeoutMs: 30_000 }, `'timeout' '--kill-after=2' '30' 'sudo' '-n' '--' 'cat' '--' '${CONF}'`],
    ['seconds round up', listAddresses(), { sudo: false, timeoutMs: 1_500 }, "'timeout' '--kill-after=2' '2' 'ip' '-o' 'addr' 'show'"],
    ['at least one second', listAddresses(), { sudo: false, timeoutMs: 10 }, "'timeout' '--kill-after=2' '1' 'ip' '-o' 'addr' 'show'"],
    ['track script as its user (root)', runTrackScript('oracle', ['/etc/keepalived/primary_check.sh']), { sudo: false, timeoutMs: 5_000 }, "'timeout' '--kill-after=2' '5' 'runuser' '-u' 'oracle' '--' '/etc/keepalived/primary_check.sh'"],
    ['track script as its user (sudo)', runTrackScript('oracle', ['/etc/keepalived/primary_check.sh', 'x']), { sudo: true, timeoutMs: 5_000 }, "'timeout' '--kill-after=2' '5' 'sudo' '-n' '-u' 'oracle' '--' '/etc/keepalived/primary_check.sh' 'x'"],
    ['track script as user and group (root)', runTrackScript('oracle', ['/bin/true'], 'dba'), { sudo: false, timeoutMs: 5_000 },
      "'timeout' '--kill-after=2' '5' 'runuser' '-u' 'oracle' '-g' 'dba' '--' '/bin/true'"],
    ['track script as user and group (sudo)', runTrackScript('oracle', ['/bin/true'], 'dba'), { sudo: true, timeoutMs: 5_000 },
      "'timeout' '--kill-after=2' '5' 'sudo' '-n' '-u' 'oracle' '-g' 'dba' '--' '/bin/true'"],
    ['stat of a script path', statPaths(['/', '/etc']), { sudo: true, timeoutMs: 5_000 },
      "'timeout' '--kill-after=2' '5' 'sudo' '-n' '--' 'stat' '-c' '%u:%g:%f:%n' '--' '/' '/etc'"],
    ['track script without user', runTrackScript(undefined, ['/bin/sleep', '30']), { sudo: false, timeoutMs: 1_000 }, "'timeout' '--kill-after=2' '1' '/bin/sleep' '30'"],
    ['track script without user (sudo)', runTrackScript(undefined, ['/bin/sleep', '30']), { sudo: true, timeoutMs: 1_000 }, "'timeout' '--kill-after=2' '1' 'sudo' '-n' '--' '/bin/sleep' '30'"],
  ])('%s', (_what, cmd, options, expected) => {
    expect(wrapCommand(cmd, options)).toBe(expected);
  });

  it('a shell turns the wrapped string back into exactly the argv', () => {
    const cmd = runTrackScript(undefined, ['/etc/keepalived/check.sh', 'a,b', '--x=1', '50%']);
    const line = wrapCommand(cmd, { sudo: true, timeoutMs: 3_000 });
    const words = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' }).split('\0').slice(0, -1);
    expect(words).toEqual(['timeout', '--kill-after=2', '3', 'sudo', '-n', '--', '/etc/keepalived/check.sh', 'a,b', '--x=1', '50%']);
  });

  it('refuses commands not built by the builders (forged or copied)', () => {
    const forged = { id: 'read-config', argv: ['sh', '-c', 'reboot'], mutates: false } as NodeCommand;
    expect(() => wrapCommand(forged, { sudo: false, timeoutMs: 1000 })).toThrow(/not built by/);
    const copy = { ...readConfig(CONF) };
    expect(() => wrapCommand(copy, { sudo: false, timeoutMs: 1000 })).toThrow(VipbotError);
  });

  it('issued commands cannot be altered after the fact', () => {
    const cmd = readConfig(CONF);
    expect(() => {
      (cmd.argv as string[])[2] = '/etc/shadow';
    }).toThrow(TypeError);
  });

  it('timeoutSeconds', () => {
    expect([1, 999, 1000, 1001, 30_000].map(timeoutSeconds)).toEqual([1, 1, 1, 2, 30]);
  });
});

describe('formatCommand', () => {
  it('is readable and still unambiguous', () => {
    expect(formatCommand(readConfig(CONF))).toBe(`cat -- ${CONF}`);
    expect(formatCommand(runTrackScript('oracle', ['/bin/check', 'x']))).toBe('(as oracle) /bin/check x');
    expect(formatCommand(runTrackScript('oracle', ['/bin/check'], 'dba'))).toBe('(as oracle:dba) /bin/check');
  });
});

describe('documentation', () => {
  it('documents every command id once, with a full program path', () => {
    const docs = documentedCommands();
    expect(docs.map((d) => d.id)).toEqual(CommandId.options);
    for (const d of docs) expect(d.program).toMatch(d.id === 'run-track-script' ? /^<script>$/ : /^\/usr\/s?bin\/[a-z]+$/);
  });

  it('renders the README table from the same list', () => {
    const table = renderCommandsMarkdown().split('\n');
    expect(table[0]).toBe('| id | command | runs | changes the host | why |');
    expect(table).toContain('| `read-config` | `cat -- <configPath>` | as the SSH user (or root with sudo) | no | read keepalived.conf (or its backup) |');
    expect(table.filter((l) => l.startsWith('| `'))).toHaveLength(CommandId.options.length);
  });

  // The expected text below was checked with `visudo -cf` (sudo 1.9.13, Debian 12): "parsed OK".
  it('sudoersExample allows exactly the documented commands', () => {
    const text = sudoersExample('vipbot', {
      configPath: CONF,
      service: 'keepalived',
      trackScripts: [
        { user: 'oracle', argv: ['/etc/keepalived/primary_check.sh'] },
        { user: 'oracle', argv: ['/etc/keepalived/standby_check.sh', 'ORCL'] },
        { argv: ['/etc/keepalived/root_check.sh'] },
      ],
    });
    expect(text).toBe(
      [
        '# /etc/sudoers.d/vipbot — generated by vipbot (sudoersExample); check with: visudo -cf /etc/sudoers.d/vipbot',
        '# vipbot runs every node command as: timeout --kill-after=2 <secs> sudo -n [-u <user>] -- <command>',
        'Defaults:vipbot !requiretty',
        'Cmnd_Alias VIPBOT_READ = /usr/bin/cat -- /etc/keepalived/keepalived.conf, \\',
        '    /usr/bin/cat -- /etc/keepalived/keepalived.conf.vipbot-backup, \\',
        '    /usr/bin/cat -- /etc/keepalived/keepalived.conf.vipbot-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z, \\',
        '    /usr/bin/systemctl show --property\\=Id\\,ActiveState\\,SubState\\,MainPID\\,MemoryCurrent\\,ExecMainStartTimestamp\\,ActiveEnterTimestamp\\,NRestarts\\,ControlGroup keepalived, \\',
        '    /usr/bin/systemctl is-active keepalived, \\',
        '    /usr/bin/ps -o pid\\=\\,ppid\\=\\,rss\\=\\,vsz\\=\\,etimes\\=\\,args\\= -C keepalived, \\',
        '    /usr/bin/cat -- /sys/fs/cgroup/system.slice/keepalived.service/memory.current, \\',
        '    /usr/bin/cat -- /sys/fs/cgroup/system.slice/keepalived.service/memory.stat, \\',
        '    /usr/bin/cat -- /sys/fs/cgroup/memory/system.slice/keepalived.service/memory.usage_in_bytes, \\',
        '    /usr/bin/cat -- /sys/fs/cgroup/memory/system.slice/keepalived.service/memory.stat, \\',
        '    /usr/bin/cat -- /proc/[0-9]/smaps_rollup, \\',
        '    /usr/bin/cat -- /proc/[0-9][0-9]/smaps_rollup, \\',
        '    /usr/bin/cat -- /proc/[0-9][0-9][0-9]/smaps_rollup, \\',
        '    /usr/bin/cat -- /proc/[0-9][0-9][0-9][0-9]/smaps_rollup, \\',
        '    /usr/bin/cat -- /proc/[0-9][0-9][0-9][0-9][0-9]/smaps_rollup, \\',
        '    /usr/bin/cat -- /proc/[0-9][0-9][0-9][0-9][0-9][0-9]/smaps_rollup, \\',
        '    /usr/bin/cat -- /proc/[0-9][0-9][0-9][0-9][0-9][0-9][0-9]/smaps_rollup, \\',
        '    /usr/sbin/ip -o addr show, \\',
        '    /usr/sbin/keepalived -t -f /etc/keepalived/keepalived.conf, \\',
        '    /usr/sbin/keepalived -t -f /etc/keepalived/keepalived.conf.vipbot-new, \\',
        '    /usr/sbin/keepalived --version',
        'Cmnd_Alias VIPBOT_CHANGE = /usr/bin/systemctl start keepalived, \\',
        '    /usr/bin/systemctl stop keepalived, \\',
        '    /usr/bin/systemctl restart keepalived, \\',
        '    /usr/bin/systemctl reload keepalived, \\',
        '    /usr/bin/cp -p -- /etc/keepalived/keepalived.conf /etc/keepalived/keepalived.conf.vipbot-backup, \\',
        '    /usr/bin/cp -p -- /etc/keepalived/keepalived.conf.vipbot-backup /etc/keepalived/keepalived.conf.vipbot-new, \\',
        '    /usr/bin/cp -p -- /etc/keepalived/keepalived.conf /etc/keepalived/keepalived.conf.vipbot-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z, \\',
        '    /usr/bin/cp -p -- /etc/keepalived/keepalived.conf.vipbot-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z /etc/keepalived/keepalived.conf.vipbot-new, \\',
        '    /usr/bin/dd of\\=/etc/keepalived/keepalived.conf.vipbot-new status\\=none, \\',
        '    /usr/bin/chown --reference\\=/etc/keepalived/keepalived.conf -- /etc/keepalived/keepalived.conf.vipbot-new, \\',
        '    /usr/bin/chmod --reference\\=/etc/keepalived/keepalived.conf -- /etc/keepalived/keepalived.conf.vipbot-new, \\',
        '    /usr/bin/mv -f -- /etc/keepalived/keepalived.conf.vipbot-new /etc/keepalived/keepalived.conf',
        'vipbot ALL = (root) NOPASSWD: VIPBOT_READ, VIPBOT_CHANGE',
        'vipbot ALL = (oracle) NOPASSWD: /etc/keepalived/primary_check.sh "", /etc/keepalived/standby_check.sh ORCL',
        'vipbot ALL = (root) NOPASSWD: /etc/keepalived/root_check.sh ""',
        '',
      ].join('\n'),
    );
  });

  // Also checked against sudo 1.9.13 itself (`sudo -l -U vipbot <command>` with this drop-in): the
  // backup, restore and read of `…vipbot-20250108T071241Z` are allowed; an extra argument, a bad digit or
  // another source file is refused.
  it('the sudoers backup pattern matches the timestamped paths and nothing with extra arguments', () => {
    const text = sudoersExample('vipbot', { configPath: CONF, service: 'keepalived' });
    const backupLine = text.split('\n').find((l) => l.includes(`-- ${CONF} ${CONF}.vipbot-[`))!;
    const pattern = backupLine.trim().replace(/, \\$/, '').split(' ').at(-1)!;
    // sudoers globs are fnmatch: translate [0-9] and literals to a regex to check what they admit.
    const glob = new RegExp(`^${pattern.replace(/[.+]/g, '\\$&').replace(/\[0-9\]/g, '[0-9]')}$`);
    expect(timestampedBackupPathFor(CONF, new Date('2025-01-08T07:12:41Z'))).toMatch(glob);
    expect(`${CONF}.vipbot-1 /etc/shadowZ`).not.toMatch(glob);
    expect(`${CONF}.vipbot-backup`).not.toMatch(glob);
    expect(pattern).not.toContain('*');
  });

  it('the sudoers memory lines follow the unit\'s ControlGroup when it is known (not every unit sits in system.slice)', () => {
    const text = sudoersExample('vipbot', { configPath: CONF, service: 'keepalived', controlGroup: '/ha.slice/keepalived.service' });
    for (const path of [
      '/sys/fs/cgroup/ha.slice/keepalived.service/memory.current',
      '/sys/fs/cgroup/ha.slice/keepalived.service/memory.stat',
      '/sys/fs/cgroup/memory/ha.slice/keepalived.service/memory.usage_in_bytes',
      '/sys/fs/cgroup/memory/ha.slice/keepalived.service/memory.stat',
    ]) expect(text).toContain(`/usr/bin/cat -- ${path}`);
    expect(text).not.toContain('system.slice');
    // systemd's escapes (\x2d) cannot be written as an exact sudoers argument: refused, the CLI falls back.
    expect(() => sudoersExample('vipbot', { configPath: CONF, service: 'keepalived', controlGroup: '/system.slice/keepalived\\x2dha.service' })).toThrow(VipbotError);
  });

  it('the sudoers smaps_rollup patterns admit a pid and nothing with extra arguments', () => {
    const text = sudoersExample('vipbot', { configPath: CONF, service: 'keepalived' });
    const globs = text.split('\n').filter((l) => l.includes('/smaps_rollup')).map((l) => l.trim().replace(/(, \\)?$/, '').split(' ').at(-1)!);
    expect(globs).toHaveLength(7);
    const admits = (path: string) => globs.some((g) => new RegExp(`^${g.replace(/\[0-9\]/g, '[0-9]')}$`).test(path));
    for (const pid of [1, 37, 23147, 4_194_304]) expect(admits(readSmapsRollup(pid).argv[2]!)).toBe(true);
    expect(admits('/proc/1 /etc/shadow /proc/2/smaps_rollup')).toBe(false);
    expect(admits('/proc/self/smaps_rollup')).toBe(false);
    expect(globs.join('')).not.toContain('*');
  });

  it('sudoersExample allows the track-script commands a collection issued: look-ups as root, runs as user:group', () => {
    const text = sudoersExample('vipbot', {
      configPath: CONF,
      service: 'keepalived',
      trackScriptCommands: [
        lookupUsers(['oracle']),
        lookupGroups(['dba']),
        resolvePaths(['/etc/keepalived/primary_check.sh']),
        statPaths(['/', '/etc', '/etc/keepalived', '/etc/keepalived/primary_check.sh']),
        runTrackScript('oracle', ['/etc/keepalived/primary_check.sh'], 'dba'),
        runTrackScript('oracle', ['/etc/keepalived/standby_check.sh']),
        runTrackScript(undefined, ['/etc/keepalived/root_check.sh', 'ORCL']),
        lookupUsers(['oracle']),
      ],
    });
    const lines = text.split('\n');
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    const read = lines.slice(at('Cmnd_Alias VIPBOT_READ'), at('Cmnd_Alias VIPBOT_CHANGE'));
    expect(read.slice(-6)).toEqual([
      '    /usr/sbin/keepalived -t -f /etc/keepalived/keepalived.conf.vipbot-new, \\',
      '    /usr/sbin/keepalived --version, \\',
      '    /usr/bin/getent passwd oracle, \\',
      '    /usr/bin/getent group dba, \\',
      '    /usr/bin/realpath -m -- /etc/keepalived/primary_check.sh, \\',
      '    /usr/bin/stat -c %u\\:%g\\:%f\\:%n -- / /etc /etc/keepalived /etc/keepalived/primary_check.sh',
    ]);
    expect(lines.filter((l) => /^vipbot ALL = \((?!root\) NOPASSWD: VIPBOT)/.test(l))).toEqual([
      'vipbot ALL = (oracle : dba) NOPASSWD: /etc/keepalived/primary_check.sh ""',
      'vipbot ALL = (oracle) NOPASSWD: /etc/keepalived/standby_check.sh ""',
      'vipbot ALL = (root) NOPASSWD: /etc/keepalived/root_check.sh ORCL',
    ]);
  });

  it('sudoersExample refuses odd input like the builders do', () => {
    expect(() => sudoersExample('vip bot', { configPath: CONF, service: 'keepalived' })).toThrow(VipbotError);
    expect(() => sudoersExample('vipbot', { configPath: 'keepalived.conf', service: 'keepalived' })).toThrow(VipbotError);
  });
});

describe('doctor commands', () => {
  it('sudo-check asks sudo about a node command as the SSH user, never through sudo itself', () => {
    const cmd = sudoCheck(runTrackScript('oracle', ['/etc/keepalived/primary_check.sh'], 'dba'));
    expect(cmd.argv).toEqual(['sudo', '-n', '-u', 'oracle', '-g', 'dba', '-l', '--', '/etc/keepalived/primary_check.sh']);
    expect(wrapCommand(cmd, { sudo: true, timeoutMs: 5_000 })).toBe("'timeout' '--kill-after=2' '5' 'sudo' '-n' '-u' 'oracle' '-g' 'dba' '-l' '--' '/etc/keepalived/primary_check.sh'");
    expect(() => sudoCheck(cmd)).toThrow(/not built by/);
    expect(() => sudoCheck({ id: 'read-config', argv: ['cat', '/etc/shadow'], mutates: false })).toThrow(/not built by/);
  });

  it('keepalived --version goes through sudo like the other reads', () => {
    expect(wrapCommand(keepalivedVersion(), { sudo: true, timeoutMs: 5_000 })).toBe("'timeout' '--kill-after=2' '5' 'sudo' '-n' '--' 'keepalived' '--version'");
  });
});

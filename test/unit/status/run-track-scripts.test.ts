/**
 * Track scripts run exactly as keepalived runs them (SPEC §8): which user each script of a real config
 * shape runs as, and which are refused (and so never run), against a fake host's accounts and modes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NodeCommand } from '../../../src/hosts/node-commands.ts';
import { parseKeepalivedConf } from '../../../src/keepalived/parse-conf.ts';
import { runTrackScripts } from '../../../src/status/run-track-scripts.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keepalived/${name}`, import.meta.url), 'utf8');

const DIR = 0o040755;
const EXEC = 0o100755;

interface FakeHost {
  users: Record<string, [number, number]>;
  groups: Record<string, number>;
  /** lstat of each path: [uid, gid, mode with type bits]. */
  entries: Record<string, [number, number, number]>;
  /** Symlinks: path → absolute target. */
  links: Record<string, string>;
}

/** A host as the DBA team's are: root-owned system dirs, Debian's group-writable /usr/local (staff), grid's own /u01. */
function host(change: (h: FakeHost) => void = () => {}): FakeHost {
  const h: FakeHost = {
    users: { oracle: [54321, 54321], grid: [54331, 54321] },
    groups: { oinstall: 54321, dba: 54322 },
    entries: {
      '/': [0, 0, DIR], '/etc': [0, 0, DIR], '/etc/keepalived': [0, 0, DIR],
      '/usr': [0, 0, DIR], '/usr/local': [0, 50, 0o042775], '/usr/local/bin': [0, 50, 0o042775],
      '/u01': [0, 0, DIR], '/u01/app': [54321, 54321, DIR], '/u01/app/grid': [54331, 54321, DIR],
      '/u01/app/grid/bin': [54331, 54321, DIR],
      '/etc/keepalived/primary_check.sh': [0, 0, EXEC], '/etc/keepalived/standby_check.sh': [0, 0, EXEC],
      '/etc/keepalived/root_check.sh': [0, 0, EXEC],
      '/usr/local/bin/check_listener.sh': [0, 0, EXEC], '/u01/app/grid/bin/check_crs.sh': [54331, 54321, EXEC],
    },
    links: {},
  };
  change(h);
  return h;
}

/** Answers the node commands from the fake host, recording each; runs exit 0 and say who they ran as. */
function fakeRunner(h: FakeHost) {
  const ran: NodeCommand[] = [];
  const resolve = (path: string): string => {
    for (const [link, target] of Object.entries(h.links)) {
      if (path === link || path.startsWith(`${link}/`)) return resolve(target + path.slice(link.length));
    }
    return path;
  };
  const run = async (cmd: NodeCommand) => {
    ran.push(cmd);
    const args = cmd.argv;
    switch (cmd.id) {
      case 'lookup-users': {
        const found = args.slice(2).filter((u) => h.users[u]);
        const stdout = found.map((u) => `${u}:x:${h.users[u]![0]}:${h.users[u]![1]}::/home/${u}:/bin/bash\n`).join('');
        return { code: found.length === args.length - 2 ? 0 : 2, stdout, stderr: '' };
      }
      case 'lookup-groups': {
        const found = args.slice(2).filter((g) => h.groups[g] !== undefined);
        const stdout = found.map((g) => `${g}:x:${h.groups[g]}:\n`).join('');
        return { code: found.length === args.length - 2 ? 0 : 2, stdout, stderr: '' };
      }
      case 'resolve-paths': return { code: 0, stdout: args.slice(3).map((p) => `${resolve(p)}\n`).join(''), stderr: '' };
      case 'stat-paths': {
        const lines = args.slice(4).map((p) => {
          const e = h.links[p] ? [0, 0, 0o120777] : h.entries[p];
          return e ? `${e[0]}:${e[1]}:${e[2]!.toString(16)}:${p}\n` : '';
        });
        return { code: lines.includes('') ? 1 : 0, stdout: lines.join(''), stderr: '' };
      }
      case 'run-track-script': return { code: 0, stdout: '', stderr: '' };
      default: throw new Error(`unexpected ${cmd.id}`);
    }
  };
  return { ran, run };
}

/** What became of each script: `as <user[:group]>` (`as ssh user`: no runuser/sudo -u), or `refused: <reason>; <fix>`. */
async function outcomes(conf: string, h: FakeHost): Promise<Record<string, string>> {
  const parsed = parseKeepalivedConf(fixture(conf));
  const { run, ran } = fakeRunner(h);
  const { results } = await runTrackScripts(run, parsed, parsed.scripts);
  const runs = ran.filter((c) => c.id === 'run-track-script');
  return Object.fromEntries(parsed.scripts.map((s) => {
    const result = results.find((r) => r.name === s.name)!;
    const cmd = runs.filter((c) => c.argv.join(' ') === s.argv.join(' '));
    if (result.refused) {
      // A refused script never ran.
      expect(cmd, s.name).toEqual([]);
      return [s.name, `refused: ${result.refused.reason}; ${result.refused.fix}`];
    }
    expect(cmd, s.name).toHaveLength(1);
    expect(result.exitCode, s.name).toBe(0);
    const { runAs, runGroup } = cmd[0]!;
    return [s.name, `as ${runAs ? `${runAs}${runGroup ? `:${runGroup}` : ''}` : 'ssh user'}`];
  }));
}

/** A refusal whose text matches `pattern`. */
const refusedLike = (pattern: RegExp) => expect.stringMatching(new RegExp(`^refused: ${pattern.source}`));

describe('runTrackScripts: as keepalived runs them', () => {
  const withKeepalivedScript = host((h) => { h.users.keepalived_script = [998, 998]; });
  const allRun = { chk_primary: 'as oracle:dba', chk_grid: 'as grid:oinstall', chk_root: 'as ssh user' };

  it.each<[string, string, FakeHost, Record<string, string>]>([
    ['no global_defs, no keepalived_script: root (the SSH user, or root under sudo)', 'scripts-no-global-defs.conf', host(),
      { chk_primary: 'as ssh user' }],
    ['no global_defs, keepalived_script exists: keepalived_script', 'scripts-no-global-defs.conf', withKeepalivedScript,
      { chk_primary: 'as keepalived_script' }],
    ['script_user oracle, one script user root, no script security: a group-writable /usr/local/bin runs anyway, as in keepalived',
      'scripts-script-user.conf', host(),
      { chk_primary: 'as oracle', chk_listener: 'as ssh user' }],
    ['the lab and the notes: script security, script_user root, user oracle', 'node1.conf', host(),
      { chk_primary: 'as oracle', chk_standby: 'as oracle' }],
    ['script security with groups: script_user oracle dba, user grid oinstall, user root on a root-owned path',
      'scripts-security-groups.conf', host(), allRun],
    ['a sticky world-writable directory owned by root is safe (like /tmp)', 'scripts-security-groups.conf',
      host((h) => { h.entries['/etc/keepalived'] = [0, 0, 0o041777]; }), allRun],
  ])('%s', async (_what, conf, h, expected) => {
    expect(await outcomes(conf, h)).toEqual(expected);
  });

  const groups = 'scripts-security-groups.conf';
  it.each<[string, string, FakeHost, Record<string, string>]>([
    ['/etc/keepalived writable by a group: the root script is refused, the non-root ones still run', groups,
      host((h) => { h.entries['/etc/keepalived'] = [0, 54321, 0o040775]; }),
      {
        ...allRun,
        chk_root: 'refused: /etc/keepalived is writable by its group (gid 54321) and chk_root would run as root — '
          + 'keepalived (enable_script_security) refuses it too; '
          + 'chmod g-w /etc/keepalived (or give vrrp_script chk_root a non-root "user")',
      }],
    ['a world-writable script', groups, host((h) => { h.entries['/etc/keepalived/root_check.sh'] = [0, 0, 0o100757]; }),
      { ...allRun, chk_root: refusedLike(/(\/etc\/keepalived\/root_check\.sh) is writable by everyone .*; chmod o-w \1 /) }],
    ['a script owned by oracle, run as root', groups, host((h) => { h.entries['/etc/keepalived/root_check.sh'] = [54321, 0, EXEC]; }),
      { ...allRun, chk_root: refusedLike(/\/etc\/keepalived\/root_check\.sh is owned by uid 54321, not root .*; chown root \/etc/) }],
    ['a symlink into a group-writable directory: the real path is checked', groups,
      host((h) => {
        h.links['/etc/keepalived/root_check.sh'] = '/usr/local/bin/root_check.sh';
        h.entries['/usr/local/bin/root_check.sh'] = [0, 0, EXEC];
      }),
      { ...allRun, chk_root: refusedLike(/\/usr\/local is writable by its group \(gid 50\) .*; chmod g-w \/usr\/local /) }],
    ['a setuid-root file is checked even for a non-root user', groups,
      host((h) => { h.entries['/u01/app/grid/bin/check_crs.sh'] = [0, 0, 0o104755]; }),
      { ...allRun, chk_grid: refusedLike(/\/u01\/app is owned by uid 54321, not root and chk_grid would run as grid:oinstall/) }],
    ['a missing script', groups, host((h) => { delete h.entries['/etc/keepalived/root_check.sh']; }),
      {
        ...allRun,
        chk_root: 'refused: /etc/keepalived/root_check.sh does not exist — keepalived disables it too (not found); '
          + 'install the script at /etc/keepalived/root_check.sh or correct vrrp_script chk_root',
      }],
    ['a script not executable by its user', groups, host((h) => { h.entries['/etc/keepalived/primary_check.sh'] = [0, 0, 0o100744]; }),
      {
        ...allRun,
        chk_primary: 'refused: /etc/keepalived/primary_check.sh is not executable by oracle:dba (uid 54321, gid 54322) — '
          + 'keepalived disables it too; chmod o+x /etc/keepalived/primary_check.sh',
      }],
    ['a vrrp_script user that does not exist', groups, host((h) => { delete h.users.grid; }),
      {
        ...allRun,
        chk_grid: 'refused: user grid (vrrp_script chk_grid) does not exist on the host — keepalived drops the script too; '
          + 'create user grid or name an existing user in vrrp_script chk_grid',
      }],
    ['a script_user group that does not exist', groups, host((h) => { delete h.groups.dba; }),
      {
        ...allRun,
        chk_primary: 'refused: group dba (global_defs script_user) does not exist on the host — keepalived drops the script too; '
          + 'create group dba or name an existing group in global_defs script_user',
      }],
    ['script security, no user anywhere, no keepalived_script: no fallback to root', 'scripts-security-default.conf', host(),
      { chk_primary: refusedLike(/it names no user .* \(enable_script_security\) refuses it too rather than run it as root; add "user/) }],
    ['script security, no user anywhere, keepalived_script exists: it runs as keepalived_script', 'scripts-security-default.conf',
      withKeepalivedScript,
      { chk_primary: 'as keepalived_script' }],
  ])('refuses what keepalived refuses: %s', async (_what, conf, h, expected) => {
    expect(await outcomes(conf, h)).toEqual(expected);
  });

  it('a user name vipbot would not pass to a host is refused without a look-up', async () => {
    const conf = parseKeepalivedConf('vrrp_script chk {\n  script /bin/true\n  user Oracle.DB\n}\n');
    const { run, ran } = fakeRunner(host());
    const { results } = await runTrackScripts(run, conf, conf.scripts);
    const reason = expect.stringMatching(/names the user "Oracle\.DB", which vipbot does not pass to a host/);
    expect(results).toEqual([{ name: 'chk', exitCode: null, refused: expect.objectContaining({ reason }) }]);
    expect(ran).toEqual([]);
  });

  it('reports who ran it, lists the look-ups and runs (for the sudoers example); only non-root runs may start early', async () => {
    const conf = parseKeepalivedConf(fixture('scripts-security-groups.conf'));
    const { run } = fakeRunner(host());
    const { results, commands, earlyRunnable } = await runTrackScripts(run, conf, conf.scripts);
    expect(results.map((r) => [r.name, r.runAs])).toEqual([
      ['chk_primary', 'oracle:dba (uid 54321, gid 54322)'], ['chk_grid', 'grid:oinstall (uid 54331, gid 54321)'], ['chk_root', 'root'],
    ]);
    expect(commands.map((c) => c.id)).toEqual([
      'lookup-users', 'lookup-groups', 'resolve-paths', 'stat-paths', 'run-track-script', 'run-track-script', 'run-track-script',
    ]);
    expect(earlyRunnable.map((c) => c.argv[0])).toEqual(['/etc/keepalived/primary_check.sh', '/u01/app/grid/bin/check_crs.sh']);
  });
});

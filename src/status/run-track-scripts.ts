/**
 * Runs a node's track scripts exactly as keepalived would (SPEC §8): as the user it would use, and not
 * at all when keepalived would refuse them (see src/keepalived/script-security.ts for the rule).
 *
 * Per node, at most three rounds after the config is read: (1) the users' and groups' ids, and — with
 * enable_script_security — every script's real path and the modes along the path, all in parallel;
 * (2) the modes along a real path that differs from the written one (a symlink on the way); (3) the
 * scripts that pass. Commands go through `run`, which the caller may cache, so the look-ups and the
 * non-root runs of the last collection can already be in flight when the config arrives.
 */
import { describeError } from '../errors.ts';
import {
  lookupGroups, lookupUsers, resolvePaths, runTrackScript, statPaths, TrackScriptArgv, type NodeCommand,
} from '../hosts/node-commands.ts';
import type { KeepalivedConf, VrrpScript } from '../keepalived/parse-conf.ts';
import {
  accountsToLookUp, configuredRunner, describeIdentity, isRefusal, judgeScriptPath, parseGetentGroup, parseGetentPasswd, parseStatLines,
  pathComponents, resolveIdentity, type HostAccounts, type PathStat, type ScriptIdentity,
} from '../keepalived/script-security.ts';
import type { TrackScriptResult } from '../model.ts';

export interface CommandResult { code: number | null; stdout: string; stderr: string }
export type RunCommand = (cmd: NodeCommand) => Promise<CommandResult>;

/** What one node's track scripts took, for the next collection and for `vipbot sudoers`. */
export interface TrackScriptRun {
  results: TrackScriptResult[];
  /** Every command issued, in order: look-ups, then runs. */
  commands: NodeCommand[];
  /** Runs as a non-root uid and gid on a file that is not setuid/setgid root: safe to start before the next check. */
  earlyRunnable: NodeCommand[];
}

/** Exit codes that mean the script did not run to an answer (timeouts surface as errors instead). */
const NOT_AN_ANSWER: Record<number, string> = { 126: 'not executable', 127: 'not found' };

interface Planned {
  script: VrrpScript;
  identity?: ScriptIdentity;
  /** Its file is setuid/setgid root: keepalived checks its path even for a non-root user. */
  setIdRoot?: boolean;
  result?: TrackScriptResult;
}

export async function runTrackScripts(run: RunCommand, conf: KeepalivedConf, scripts: readonly VrrpScript[]): Promise<TrackScriptRun> {
  const commands: NodeCommand[] = [];
  const issue = (cmd: NodeCommand) => {
    commands.push(cmd);
    return run(cmd);
  };
  const security = conf.globals.scriptSecurity;
  const planned: Planned[] = scripts.map((script) => {
    const argv = TrackScriptArgv.safeParse(script.argv);
    if (argv.success) return { script };
    const error = `${script.script || 'no script line'}: not a plain absolute path with plain arguments, so vipbot does not run it`;
    return { script, result: { name: script.name, exitCode: null, error } };
  });
  const pending = () => planned.filter((p) => !p.result);
  try {
    const runners = new Map(pending().map((p) => [p, configuredRunner(p.script, conf.globals)]));
    const names = accountsToLookUp([...runners.values()]);
    const scriptPaths = [...new Set(pending().map((p) => p.script.argv[0]!))];
    const [users, groups, real, lexical] = await Promise.all([
      names.users.length ? issue(lookupUsers(names.users)) : undefined,
      names.groups.length ? issue(lookupGroups(names.groups)) : undefined,
      security && scriptPaths.length ? issue(resolvePaths(scriptPaths)) : undefined,
      security && scriptPaths.length ? issue(statPaths([...new Set(scriptPaths.flatMap(pathComponents))])) : undefined,
    ]);
    // getent exits 2 when some name does not exist: its output still lists those that do.
    for (const [what, res] of [['users', users], ['groups', groups]] as const) {
      if (res && res.code !== 0 && res.code !== 2) throw new Error(`getent ${what} failed: ${why(res)}`);
    }
    const accounts: HostAccounts = { users: parseGetentPasswd(users?.stdout ?? ''), groups: parseGetentGroup(groups?.stdout ?? '') };
    for (const p of pending()) {
      const identity = resolveIdentity(p.script, runners.get(p)!, accounts, security);
      if (isRefusal(identity)) p.result = { name: p.script.name, exitCode: null, refused: identity };
      else p.identity = identity;
    }
    if (security && real && lexical) await judgePaths(issue, pending(), scriptPaths, real, lexical.stdout);
  } catch (err) {
    for (const p of pending()) {
      const error = `${p.script.script}: could not check how keepalived runs it: ${describeError(err)}`;
      p.result = { name: p.script.name, exitCode: null, error };
    }
  }
  const earlyRunnable: NodeCommand[] = [];
  await Promise.all(pending().map(async (p) => {
    const id = p.identity!;
    const cmd = runTrackScript(id.user === 'root' && id.group === undefined ? undefined : id.user, p.script.argv, id.group);
    if (id.uid !== 0 && id.gid !== 0 && !p.setIdRoot) earlyRunnable.push(cmd);
    p.result = await runOne(issue, p.script, cmd, describeIdentity(id));
  }));
  return { results: planned.map((p) => p.result!), commands, earlyRunnable };
}

async function judgePaths(
  issue: RunCommand,
  planned: Planned[],
  scriptPaths: string[],
  real: CommandResult,
  lexical: string,
): Promise<void> {
  const realPaths = real.stdout.split('\n').filter(Boolean);
  if (real.code !== 0 || realPaths.length !== scriptPaths.length) throw new Error(`realpath failed: ${why(real)}`);
  const realOf = new Map(scriptPaths.map((path, i) => [path, realPaths[i]!]));
  const stats = new Map<string, PathStat>(parseStatLines(lexical));
  // A symlink on the way: keepalived checks the real path, so stat what the first round did not.
  const asked = new Set(scriptPaths.flatMap(pathComponents));
  const unseen = [...new Set(realPaths.flatMap(pathComponents))].filter((path) => !asked.has(path));
  if (unseen.length) for (const [path, stat] of parseStatLines((await issue(statPaths(unseen))).stdout)) stats.set(path, stat);
  for (const p of planned) {
    const verdict = judgeScriptPath(p.script, realOf.get(p.script.argv[0]!)!, stats, p.identity!, true);
    if (isRefusal(verdict)) {
      p.result = { name: p.script.name, exitCode: null, refused: verdict, runAs: describeIdentity(p.identity!) };
    } else {
      p.setIdRoot = verdict.needsProtection && p.identity!.uid !== 0 && p.identity!.gid !== 0;
    }
  }
}

async function runOne(issue: RunCommand, script: VrrpScript, cmd: NodeCommand, runAs: string): Promise<TrackScriptResult> {
  try {
    const res = await issue(cmd);
    const reason = res.code === null ? 'no exit code' : NOT_AN_ANSWER[res.code];
    const error = reason ? `${script.script}: ${reason}${res.stderr ? ` (${firstLine(res.stderr)})` : ''}` : undefined;
    return { name: script.name, exitCode: res.code, runAs, ...(error ? { error } : {}) };
  } catch (err) {
    // Timed out, or the connection dropped.
    return { name: script.name, exitCode: null, runAs, error: `${script.script}: ${describeError(err)}` };
  }
}

function why(res: CommandResult): string {
  return firstLine(res.stderr) || `exit ${String(res.code)}`;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 200) ?? '';
}

// The vipbot test lab: N hosts, each a network + mount + PID namespace on 198.51.100.0/24 running
// real sshd and real keepalived, paired into Data Guard style clusters. Used by the integration
// tests, the benchmarks, `npm run lab` and `npm run demo`. Needs root.
//
// Traffic stays on loopback and on the lab bridge: hosts live only in namespaces created here.
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document, isMap, isSeq } from 'yaml';
import { createHostCgroups, detectCgroup, removeLabCgroups, type CgroupSetup } from './cgroup.ts';
import { setLabCpuShares, type CpuWeightResult } from './cpu-weight.ts';
import { LAB_BOT_USER, renderAccountFiles, renderHostEnv, renderSshdConfig } from './host-files.ts';
import { PRIMARY_CHECK, ROLE_FILE, STANDBY_CHECK, renderKeepalivedConf } from './keepalived-conf.ts';
import { LAB_PATH, run, runOk, sleep, type RunResult } from './run.ts';
import {
  BRIDGE, BRIDGE_IP, LAB_NET, NETNS_PREFIX, VETH_PREFIX, buildTopology, expectedInitialHolders,
  type Topology, type TopologyCluster, type TopologyHost,
} from './topology.ts';

/** One lab host. `initPid` is the root-namespace PID of the host's PID 1; killing it ends the host. */
export interface LabHost { name: string; ip: string; cluster: string; netns: string; initPid: number }
/** A lab cluster as written to vipbot.yaml. */
export interface LabCluster { name: string; nodes: string[]; vips: { name: string; instance: string; address: string }[] }
/** Where the lab's files are; `configPath` is a ready-to-use vipbot.yaml. */
export interface LabInfo {
  dir: string;
  hosts: LabHost[];
  clusters: LabCluster[];
  configPath: string;
  keyPath: string;
  knownHostsPath: string;
}
export interface LabOptions { dir?: string }
export interface LabUpOptions extends LabOptions { log?: (line: string) => void }
export type LabRole = 'PRIMARY' | 'STANDBY' | 'down';

interface StateHost extends LabHost { index: number; veth: string; hostDir: string; unsharePid: number }
interface LabState {
  version: 1;
  dir: string;
  createdAt: string;
  hosts: StateHost[];
  clusters: TopologyCluster[];
  cgroup: CgroupSetup;
}

const LAB_SOURCE_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_DIR = resolve(LAB_SOURCE_DIR, '..');
const INIT_SCRIPT = join(LAB_SOURCE_DIR, 'host', 'init.sh');
/** Environment of commands run inside hosts: as clean as an SSH session's. */
const HOST_ENV = { PATH: LAB_PATH, HOME: '/root', USER: 'root', LOGNAME: 'root', LANG: 'C', SHELL: '/bin/bash' };
const ROLE_TEXT: Record<LabRole, string> = { PRIMARY: 'PRIMARY', STANDBY: 'PHYSICAL STANDBY', down: 'down' };

/** The lab dir: `opts.dir`, else `$VIPBOT_LAB_DIR`, else `<repo>/.lab`. */
export function labDir(opts: LabOptions = {}): string {
  return resolve(opts.dir ?? process.env.VIPBOT_LAB_DIR ?? join(REPO_DIR, '.lab'));
}

// ---------------------------------------------------------------------------------------------
// up / down / info

/** Brings up `count` hosts (default 2) after clearing any earlier lab; resolves once every sshd
 *  answers and every VIP sits on its initial holder. */
export async function labUp(count = 2, opts: LabUpOptions = {}): Promise<LabInfo> {
  assertRoot();
  return withLabLock(() => bringUp(count, opts));
}

async function bringUp(count: number, opts: LabUpOptions): Promise<LabInfo> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  const lap = (what: string): void => log(`${what} (${((Date.now() - t0) / 1000).toFixed(2)}s)`);
  await ensureTools(log);
  const dir = labDir(opts);
  const topology = buildTopology(count);
  await tearDown(dir);
  lap('cleared any earlier lab');

  try {
    await mkdir(join(dir, 'hosts'), { recursive: true, mode: 0o755 });
    await chmod(dir, 0o755);
    const keyPath = join(dir, 'id_ed25519');
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'vipbot-lab-bot', '-f', keyPath]);
    const botPublicKey = (await readFile(`${keyPath}.pub`, 'utf8')).trim();
    const accounts = renderAccountFiles({
      passwd: await readFile('/etc/passwd', 'utf8'),
      group: await readFile('/etc/group', 'utf8'),
      shadow: await readFile('/etc/shadow', 'utf8'),
    });
    const cgroup = await createHostCgroups(await detectCgroup(), topology.hosts.map((h) => h.name));
    if (cgroup.mode === 'none') log(`warning: no memory cgroup (${cgroup.reason}); MemoryCurrent will be [not set]`);
    // keepalived's config dir is the mount point for the hosts' own /etc/keepalived.
    await mkdir('/etc/keepalived', { recursive: true });

    await Promise.all(topology.hosts.map((host) => writeHostFiles(dir, host, topology, cgroup, botPublicKey, accounts)));
    lap(`wrote files for ${count} host(s)`);
    await createNetwork(topology);
    lap('created bridge, namespaces and veths');

    const state: LabState = { version: 1, dir, createdAt: new Date().toISOString(), hosts: [], clusters: topology.clusters, cgroup };
    state.hosts = await Promise.all(topology.hosts.map((host) => startHost(dir, host)));
    await writeState(dir, state);
    lap('host namespaces ready');

    await Promise.all(state.hosts.map((host) => startServices(host)));
    lap('sshd and keepalived started');

    await writeFile(join(dir, 'known_hosts'), await renderKnownHosts(state), { mode: 0o644 });
    await writeFile(join(dir, 'vipbot.yaml'), renderVipbotYaml(dir, topology), { mode: 0o644 });

    await Promise.all(state.hosts.map((host) => waitFor(() => sshdAnswers(host.ip), 20_000, `sshd on ${host.name} (${host.ip})`)));
    lap('every sshd answers');
    const expected = expectedInitialHolders(topology);
    await waitFor(async () => {
      const holders = await readHolders(state);
      return Object.entries(expected).every(([vip, node]) => sameList(holders[vip] ?? [], node ? [node] : []));
    }, 30_000, 'every VIP on its initial holder');
    lap(`every VIP held (${Object.keys(expected).length} VIPs)`);
    return toInfo(state);
  } catch (err) {
    const detail = await failureDetail(dir, topology);
    if (process.env.VIPBOT_LAB_KEEP !== '1') await tearDown(dir).catch(() => undefined);
    throw new Error(`lab up failed: ${(err as Error).message}${detail}`, { cause: err });
  }
}

/** Removes every lab resource by name (hosts of any earlier or killed run too). Idempotent. */
export async function labDown(opts: LabOptions = {}): Promise<void> {
  assertRoot();
  await withLabLock(() => tearDown(labDir(opts)));
}

async function tearDown(dir: string): Promise<void> {
  const state = await readState(dir);
  const namespaces = await listLabNamespaces();

  // Everything inside a host's netns: init, sshd, keepalived, sessions. Killing each host's init
  // also ends its PID namespace, so nothing escapes.
  const pids = new Set<number>();
  for (const host of state?.hosts ?? []) {
    for (const pid of [host.initPid, host.unsharePid]) if (isLabProcess(pid)) pids.add(pid);
  }
  const found = await Promise.all(namespaces.map((ns) => run('ip', ['netns', 'pids', ns])));
  for (const r of found) for (const p of r.stdout.split(/\s+/)) if (/^\d+$/.test(p)) pids.add(Number(p));
  for (const pid of pids) killQuietly(pid, 'SIGKILL');
  await waitFor(async () => [...pids].every((p) => !processAlive(p)), 5_000, 'lab processes to exit').catch(() => undefined);

  if (namespaces.length > 0) {
    await run('ip', ['-force', '-batch', '-'], { input: namespaces.map((ns) => `netns delete ${ns}\n`).join('') });
  }
  const links = await listLabLinks();
  if (links.length > 0) await run('ip', ['-force', '-batch', '-'], { input: links.map((l) => `link delete ${l}\n`).join('') });

  const left = await removeLabCgroups();
  if (left.length > 0) throw new Error(`lab down could not remove cgroup(s) ${left.join(', ')}: processes still inside?`);

  await rm(join(dir, 'hosts'), { recursive: true, force: true });
  for (const f of ['state.json', 'id_ed25519', 'id_ed25519.pub', 'known_hosts', 'vipbot.yaml']) {
    await rm(join(dir, f), { force: true });
  }
}

/** The running lab, or undefined when none is up (or one of its hosts has died). */
export async function labInfo(opts: LabOptions = {}): Promise<LabInfo | undefined> {
  const state = await readState(labDir(opts));
  if (!state || state.hosts.length === 0) return undefined;
  if (!state.hosts.every((h) => isLabProcess(h.initPid))) return undefined;
  return toInfo(state);
}

// ---------------------------------------------------------------------------------------------
// operations on a running lab

/**
 * CPU weight of the whole lab (cgroup v1 cpu.shares; 1024 = the kernel's default), so the hosts can be
 * made to use only the CPU the bot leaves, as other machines would (the bench does; see cpu-weight.ts).
 */
export async function labCpuShares(shares: number | 'unconfined', opts: LabOptions = {}): Promise<CpuWeightResult> {
  const state = await readState(labDir(opts));
  if (!state || state.hosts.length === 0) throw new Error('no lab is up; start one with: npm run lab -- up [N]');
  return setLabCpuShares(state.hosts.map((h) => h.initPid), shares, state.cgroup);
}

/** Sets the host's database role as its check scripts see it (`STANDBY` = `PHYSICAL STANDBY`). */
export async function setRole(node: string, role: LabRole, opts: LabOptions = {}): Promise<void> {
  if (!(role in ROLE_TEXT)) throw new Error(`unknown role "${role}"; use PRIMARY, STANDBY or down`);
  const { host } = await requireHost(node, opts);
  // Atomic replace: keepalived runs the check every second and must never read a half-written file.
  const file = join(host.hostDir, 'etc-keepalived', 'lab-role');
  await writeFile(`${file}.tmp`, `${ROLE_TEXT[role]}\n`, { mode: 0o644 });
  await rename(`${file}.tmp`, file);
}

/** Current role file content of a host (`PRIMARY`, `PHYSICAL STANDBY` or `down`). */
export async function getRole(node: string, opts: LabOptions = {}): Promise<string> {
  const { host } = await requireHost(node, opts);
  return (await readFile(join(host.hostDir, 'etc-keepalived', 'lab-role'), 'utf8')).trim();
}

/** Takes the host off the wire (bridge-side veth down): connections time out, no RST. The host's
 *  eth0 loses carrier too, so its keepalived goes FAULT and drops its VIPs, as on a real link loss. */
export async function cut(node: string, opts: LabOptions = {}): Promise<void> {
  const { host } = await requireHost(node, opts);
  await runOk('ip', ['link', 'set', host.veth, 'down']);
}

export async function heal(node: string, opts: LabOptions = {}): Promise<void> {
  const { host } = await requireHost(node, opts);
  await runOk('ip', ['link', 'set', host.veth, 'up']);
}

/** MAC no lab host has: a pinned neighbour entry pointing at it makes frames go nowhere. */
const NOWHERE_MAC = '02:00:00:de:ad:00';

/** Cuts traffic between two hosts only: VRRP adverts are lost while the bot still reaches both, so
 *  with both roles PRIMARY both become MASTER (split brain).
 *  Routes cannot do this: keepalived binds its socket to eth0, and for a device-bound socket the
 *  kernel treats a failed (blackhole) lookup as "destination on link" and sends anyway. So each host
 *  gets a permanent neighbour entry for the other with a MAC nobody has: the bridge floods those
 *  frames and every NIC drops them. TCP between the two then times out, as on a real partition. */
export async function partition(a: string, b: string, opts: LabOptions = {}): Promise<void> {
  const [ha, hb] = await twoHosts(a, b, opts);
  for (const [from, to] of [[ha, hb], [hb, ha]] as const) {
    await runOk('ip', ['-n', from.netns, 'neigh', 'replace', to.ip, 'lladdr', NOWHERE_MAC, 'nud', 'permanent', 'dev', 'eth0']);
  }
}

export async function unpartition(a: string, b: string, opts: LabOptions = {}): Promise<void> {
  const [ha, hb] = await twoHosts(a, b, opts);
  for (const [from, to] of [[ha, hb], [hb, ha]] as const) {
    const r = await run('ip', ['-n', from.netns, 'neigh', 'show', to.ip, 'dev', 'eth0']);
    // Only remove our pinned entry; a learnt one is fine and re-resolves by itself.
    if (r.stdout.includes(NOWHERE_MAC)) await runOk('ip', ['-n', from.netns, 'neigh', 'del', to.ip, 'dev', 'eth0']);
  }
}

/** Gives the host a new sshd host key and restarts sshd; known_hosts keeps the old key on purpose,
 *  so the bot must refuse the host. restoreHostKey() undoes it. */
export async function rekey(node: string, opts: LabOptions = {}): Promise<void> {
  const { host } = await requireHost(node, opts);
  const key = join(host.hostDir, 'ssh', 'ssh_host_ed25519_key');
  await rm(key, { force: true });
  await rm(`${key}.pub`, { force: true });
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `vipbot-lab ${host.name} rekeyed`, '-f', key]);
  await restartSshd(host);
}

/**
 * Installs a sudoers drop-in (e.g. `vipbot sudoers --user vipbot <node>`) as the host's private
 * /etc/sudoers.d/vipbot, after sudo's own parser accepted it; the machine's sudoers is never touched.
 * The `vipbot` login (same key as root) then runs exactly what it allows.
 */
export async function allowSudo(node: string, sudoersText: string, opts: LabOptions = {}): Promise<void> {
  const { host } = await requireHost(node, opts);
  const dir = join(host.hostDir, 'etc-sudoers.d');
  if (!existsSync('/etc/sudoers.d')) throw new Error('sudo is not installed (no /etc/sudoers.d): apt-get install -y sudo, then lab up again');
  const staged = join(host.hostDir, 'stage-sudoers');
  await writeFile(staged, sudoersText, { mode: 0o440 });
  try {
    const check = await run('visudo', ['-cf', staged]);
    if (check.code !== 0) throw new Error(`visudo refused the sudoers text for ${node}: ${(check.stdout + check.stderr).trim()}`);
    await rename(staged, join(dir, LAB_BOT_USER));
  } finally {
    await rm(staged, { force: true });
  }
}

/** Removes what allowSudo installed: the `vipbot` login may run nothing as root again. */
export async function revokeSudo(node: string, opts: LabOptions = {}): Promise<void> {
  const { host } = await requireHost(node, opts);
  await rm(join(host.hostDir, 'etc-sudoers.d', LAB_BOT_USER), { force: true });
}

/** Puts back the host key written at `up` (the one in known_hosts) and restarts sshd. */
export async function restoreHostKey(node: string, opts: LabOptions = {}): Promise<void> {
  const { host } = await requireHost(node, opts);
  const dir = join(host.hostDir, 'ssh');
  await copyFile(join(dir, 'original_ed25519_key'), join(dir, 'ssh_host_ed25519_key'));
  await copyFile(join(dir, 'original_ed25519_key.pub'), join(dir, 'ssh_host_ed25519_key.pub'));
  await chmod(join(dir, 'ssh_host_ed25519_key'), 0o600);
  await restartSshd(host);
}

async function restartSshd(host: StateHost): Promise<void> {
  await stopSshd(host);
  await startSshd(host);
  await waitFor(() => sshdAnswers(host.ip), 10_000, `sshd on ${host.name} after restart`);
  // Answering is not enough after a key change: wait until the key it presents is the one on disk,
  // so the next connection cannot meet the sshd (or key) of before.
  const [, blob] = (await readFile(join(host.hostDir, 'ssh', 'ssh_host_ed25519_key.pub'), 'utf8')).trim().split(/\s+/);
  await waitFor(async () => (await run('ssh-keyscan', ['-t', 'ed25519', '-T', '2', host.ip])).stdout.includes(blob ?? '\u0000'), 10_000, `sshd on ${host.name} presenting its new host key`);
}

/** Runs argv inside the host (its mount, PID, UTS and network namespaces; not over SSH). */
export async function hostExec(
  node: string,
  argv: string[],
  opts: LabOptions & { timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  if (argv.length === 0) throw new Error('hostExec needs a command');
  const { host } = await requireHost(node, opts);
  return execInHost(host, argv, opts);
}

/** Which hosts hold each VIP right now, read from each host's eth0 (`ip -o addr`), not via keepalived. */
export async function vipHolders(opts: LabOptions = {}): Promise<Record<string, string[]>> {
  const state = await readState(labDir(opts));
  if (!state) throw new Error(`no lab is up in ${labDir(opts)}; run \`npm run lab -- up\``);
  return readHolders(state);
}

/** Thrown by a waitFor predicate to give up at once (a predicate's other errors mean "not yet"). */
export class StopWaiting extends Error {}

/** Polls `predicate` every 100 ms until it is true; rejects after `timeoutMs` naming `what`. */
export async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await predicate()) return;
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(100);
  }
}

/** Per-host summary for `lab status`. */
export interface HostStatus { name: string; ip: string; cluster: string; role: string; keepalived: string; link: 'up' | 'cut'; sshd: boolean; vips: string[] }

export async function labStatus(opts: LabOptions = {}): Promise<{ info: LabInfo; hosts: HostStatus[] } | undefined> {
  const state = await readState(labDir(opts));
  const info = await labInfo(opts);
  if (!state || !info) return undefined;
  const holders = await readHolders(state);
  const hosts = await Promise.all(state.hosts.map(async (host): Promise<HostStatus> => {
    const [role, active, link, sshd] = await Promise.all([
      readFile(join(host.hostDir, 'etc-keepalived', 'lab-role'), 'utf8').then((t) => t.trim(), () => '?'),
      execInHost(host, ['systemctl', 'is-active', 'keepalived']).then((r) => r.stdout.trim() || `exit ${r.code}`),
      // Admin state of the bridge-side veth: the UP flag inside <...> is what `cut` clears.
      run('ip', ['-o', 'link', 'show', 'dev', host.veth]).then((r): 'up' | 'cut' => (/<[^>]*\bUP\b[^>]*>/.test(r.stdout) ? 'up' : 'cut')),
      sshdAnswers(host.ip, 1_500),
    ]);
    const vips = Object.entries(holders).filter(([, nodes]) => nodes.includes(host.name)).map(([vip]) => vip);
    return { name: host.name, ip: host.ip, cluster: host.cluster, role, keepalived: active, link, sshd, vips };
  }));
  return { info, hosts };
}

// ---------------------------------------------------------------------------------------------
// building hosts

async function writeHostFiles(
  dir: string,
  host: TopologyHost,
  topology: Topology,
  cgroup: CgroupSetup,
  botPublicKey: string,
  accounts: { passwd: string; group: string; shadow: string; botUid: number; botGid: number },
): Promise<void> {
  const hostDir = join(dir, 'hosts', host.name);
  // Script security: keepalived refuses scripts in a directory a non-root user could write.
  for (const sub of ['stage', 'etc-keepalived', 'etc', 'ssh', 'bin']) await mkdir(join(hostDir, sub), { recursive: true, mode: 0o755 });
  await mkdir(join(hostDir, 'root', '.ssh'), { recursive: true, mode: 0o700 });
  await chmod(join(hostDir, 'root'), 0o700);

  const kdir = join(hostDir, 'etc-keepalived');
  await writeFile(join(kdir, 'keepalived.conf'), renderKeepalivedConf(host, topology), { mode: 0o644 });
  await copyFile(join(LAB_SOURCE_DIR, 'host', 'primary_check.sh'), join(kdir, 'primary_check.sh'));
  await copyFile(join(LAB_SOURCE_DIR, 'host', 'standby_check.sh'), join(kdir, 'standby_check.sh'));
  await chmod(join(kdir, 'primary_check.sh'), 0o755);
  await chmod(join(kdir, 'standby_check.sh'), 0o755);
  await writeFile(join(kdir, 'lab-role'), `${host.initialRole}\n`, { mode: 0o644 });

  await writeFile(join(hostDir, 'etc', 'passwd'), accounts.passwd, { mode: 0o644 });
  await writeFile(join(hostDir, 'etc', 'group'), accounts.group, { mode: 0o644 });
  await writeFile(join(hostDir, 'etc', 'shadow'), accounts.shadow, { mode: 0o640 });
  await writeFile(join(hostDir, 'root', '.ssh', 'authorized_keys'), `${botPublicKey}\n`, { mode: 0o600 });
  // The unprivileged bot user: same key, its own home (sshd's StrictModes wants it owned by the user),
  // and a private /etc/sudoers.d that allowSudo() fills; /etc/hosts names the host so sudo can resolve it.
  const botHome = join(hostDir, 'home', LAB_BOT_USER);
  await mkdir(join(botHome, '.ssh'), { recursive: true, mode: 0o700 });
  await writeFile(join(botHome, '.ssh', 'authorized_keys'), `${botPublicKey}\n`, { mode: 0o600 });
  for (const path of [botHome, join(botHome, '.ssh'), join(botHome, '.ssh', 'authorized_keys')]) await chown(path, accounts.botUid, accounts.botGid);
  await chmod(join(hostDir, 'home'), 0o755);
  await mkdir(join(hostDir, 'etc-sudoers.d'), { recursive: true, mode: 0o750 });
  await writeFile(join(hostDir, 'etc', 'hosts'), `127.0.0.1 localhost\n127.0.1.1 ${host.name}\n${host.ip} ${host.name}\n`, { mode: 0o644 });
  await writeFile(join(hostDir, 'ssh', 'sshd_config'), renderSshdConfig(host), { mode: 0o644 });
  const hostKey = join(hostDir, 'ssh', 'ssh_host_ed25519_key');
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `vipbot-lab ${host.name}`, '-f', hostKey]);
  // Kept so restoreHostKey() can undo rekey().
  await copyFile(hostKey, join(hostDir, 'ssh', 'original_ed25519_key'));
  await copyFile(`${hostKey}.pub`, join(hostDir, 'ssh', 'original_ed25519_key.pub'));
  await copyFile(join(LAB_SOURCE_DIR, 'host', 'systemctl.sh'), join(hostDir, 'bin', 'systemctl'));
  await chmod(join(hostDir, 'bin', 'systemctl'), 0o755);
  await writeFile(join(hostDir, 'host.env'), renderHostEnv(host, cgroup), { mode: 0o644 });
}

async function createNetwork(topology: Topology): Promise<void> {
  await runOk('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  // No IPv6 on the lab bridge: keeps router solicitations and MLD reports off it.
  await writeFile(`/proc/sys/net/ipv6/conf/${BRIDGE}/disable_ipv6`, '1').catch(() => undefined);
  const root = [`addr add ${BRIDGE_IP}/24 dev ${BRIDGE}`, `link set ${BRIDGE} up`];
  for (const h of topology.hosts) {
    root.push(
      `netns add ${h.netns}`,
      // The host end is created directly inside the netns as eth0: no temporary name to clash on.
      `link add ${h.veth} type veth peer name eth0 netns ${h.netns}`,
      `link set ${h.veth} master ${BRIDGE} up`,
    );
  }
  await runOk('ip', ['-batch', '-'], { input: root.join('\n') + '\n' });
  await Promise.all(topology.hosts.map((h) => runOk('ip', ['-n', h.netns, '-batch', '-'], {
    input: [`link set lo up`, `addr add ${h.ip}/24 dev eth0`, `link set eth0 up`].join('\n') + '\n',
  })));
}

/** Starts the host's init (PID 1 of new mount/PID/UTS namespaces inside its netns); waits for it. */
async function startHost(dir: string, host: TopologyHost): Promise<StateHost> {
  const hostDir = join(dir, 'hosts', host.name);
  const logFd = openSync(join(hostDir, 'init.log'), 'a');
  const child = spawn('ip', [
    'netns', 'exec', host.netns,
    'unshare', '--mount', '--pid', '--uts', '--fork', '--mount-proc', '--propagation', 'private',
    '/bin/bash', INIT_SCRIPT, hostDir,
  ], { detached: true, stdio: ['ignore', logFd, logFd], env: { PATH: LAB_PATH, LANG: 'C' } });
  closeSync(logFd);
  let exited: string | undefined;
  child.on('exit', (code, signal) => { exited = `exited (${signal ?? code})`; });
  child.on('error', (err) => { exited = err.message; });
  child.unref();
  await waitFor(async () => {
    if (exited) throw new StopWaiting(`${host.name} init ${exited}: ${tail(join(hostDir, 'init.log'))}`);
    return existsSync(join(hostDir, 'ready'));
  }, 15_000, `${host.name} init`);
  const unsharePid = child.pid ?? 0;
  const initPid = await findChildPid(unsharePid);
  return { name: host.name, ip: host.ip, cluster: host.cluster, netns: host.netns, initPid, index: host.index, veth: host.veth, hostDir, unsharePid };
}

async function startServices(host: StateHost): Promise<void> {
  await Promise.all([
    startSshd(host),
    execInHost(host, ['systemctl', 'start', 'keepalived']).then((r) => {
      if (r.code !== 0) throw new Error(`keepalived on ${host.name}: ${r.stderr.trim()}`);
    }),
  ]);
}

async function startSshd(host: StateHost): Promise<void> {
  // Absolute path: sshd re-executes itself for every connection and refuses a relative argv[0].
  const r = await execInHost(host, ['/usr/sbin/sshd', '-f', '/run/lab/ssh/sshd_config', '-E', '/run/lab/sshd.log']);
  if (r.code !== 0) throw new Error(`sshd on ${host.name} exited ${r.code}: ${r.stderr.trim() || tail(join(host.hostDir, 'sshd.log'))}`);
}

async function stopSshd(host: StateHost): Promise<void> {
  const pid = (await readFile(`/proc/${host.initPid}/root/run/sshd.pid`, 'utf8').catch(() => '')).trim();
  if (!/^\d+$/.test(pid)) return;
  await execInHost(host, ['kill', '-TERM', pid]);
  await waitFor(async () => (await execInHost(host, ['kill', '-0', pid])).code !== 0, 5_000, `old sshd on ${host.name} to exit`);
}

function execInHost(host: StateHost, argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return run('nsenter', ['-t', String(host.initPid), '-m', '-p', '-u', '-n', '--', ...argv], {
    env: HOST_ENV,
    timeoutMs: opts.timeoutMs ?? 30_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// files the bot uses

async function renderKnownHosts(state: LabState): Promise<string> {
  const lines = await Promise.all(state.hosts.map(async (h) => {
    const [type, key] = (await readFile(join(h.hostDir, 'ssh', 'ssh_host_ed25519_key.pub'), 'utf8')).trim().split(/\s+/);
    return `${h.ip} ${type} ${key}`;
  }));
  return lines.join('\n') + '\n';
}

function renderVipbotYaml(dir: string, topology: Topology): string {
  const config = {
    access: { viewers: [], operators: ['U0OPER1'], approvers: ['U0LEAD1'], channels: [] },
    ssh: {
      user: 'root',
      port: 22,
      privateKeyPath: join(dir, 'id_ed25519'),
      knownHostsPath: join(dir, 'known_hosts'),
      connectTimeout: '2s',
      commandTimeout: '10s',
    },
    keepalived: { configPath: '/etc/keepalived/keepalived.conf' },
    memory: { dailySummary: { channel: 'C0VIPOPS' } },
    clusters: topology.clusters.map((c) => ({
      name: c.name,
      vips: c.vips.map((v) => ({ name: v.name, instance: v.instance, address: v.address })),
      nodes: c.nodes.map((n) => ({ name: n, host: topology.hosts.find((h) => h.name === n)?.ip ?? '' })),
    })),
  };
  // Short lists and the VIP/node entries in flow style, as a person would write the file (SPEC §3).
  const doc = new Document(config);
  for (const path of [['access', 'operators'], ['access', 'approvers'], ['access', 'viewers'], ['access', 'channels'], ['memory', 'dailySummary']]) {
    const node = doc.getIn(path, true);
    if (isSeq(node) || isMap(node)) node.flow = true;
  }
  const clusters = doc.get('clusters', true);
  for (const cluster of isSeq(clusters) ? clusters.items : []) {
    for (const key of ['vips', 'nodes']) {
      const list = isMap(cluster) ? cluster.get(key, true) : undefined;
      for (const item of isSeq(list) ? list.items : []) if (isMap(item)) item.flow = true;
    }
  }
  return `# Written by \`npm run lab -- up ${topology.hosts.length}\`; rewritten on every up.\n` + doc.toString();
}

// ---------------------------------------------------------------------------------------------
// helpers

async function readHolders(state: LabState): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const c of state.clusters) for (const v of c.vips) out[v.address] = [];
  const addrs = await Promise.all(state.hosts.map(async (h) => {
    const r = await run('ip', ['-n', h.netns, '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    return [...r.stdout.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1] ?? '');
  }));
  state.hosts.forEach((h, i) => {
    for (const a of addrs[i] ?? []) out[a]?.push(h.name);
  });
  return out;
}

/** True once the host's sshd sends its `SSH-2.0-` banner. */
function sshdAnswers(ip: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = connect({ host: ip, port: 22 });
    const done = (ok: boolean): void => { socket.destroy(); resolveAnswer(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('data', (b: Buffer) => done(b.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => done(false));
  });
}

async function requireHost(node: string, opts: LabOptions): Promise<{ state: LabState; host: StateHost }> {
  const dir = labDir(opts);
  const state = await readState(dir);
  if (!state) throw new Error(`no lab is up in ${dir}; run \`npm run lab -- up\``);
  const host = state.hosts.find((h) => h.name === node);
  if (!host) throw new Error(`unknown lab node "${node}"; known: ${state.hosts.map((h) => h.name).join(', ')}`);
  return { state, host };
}

async function twoHosts(a: string, b: string, opts: LabOptions): Promise<[StateHost, StateHost]> {
  if (a === b) throw new Error('partition needs two different nodes');
  return [(await requireHost(a, opts)).host, (await requireHost(b, opts)).host];
}

async function readState(dir: string): Promise<LabState | undefined> {
  try {
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as LabState;
    return state.version === 1 ? state : undefined;
  } catch {
    return undefined;
  }
}

async function writeState(dir: string, state: LabState): Promise<void> {
  await writeFile(join(dir, 'state.json.tmp'), JSON.stringify(state, null, 2) + '\n');
  await rename(join(dir, 'state.json.tmp'), join(dir, 'state.json'));
}

function toInfo(state: LabState): LabInfo {
  return {
    dir: state.dir,
    hosts: state.hosts.map(({ name, ip, cluster, netns, initPid }) => ({ name, ip, cluster, netns, initPid })),
    clusters: state.clusters.map((c) => ({ name: c.name, nodes: c.nodes, vips: c.vips.map(({ name, instance, address }) => ({ name, instance, address })) })),
    configPath: join(state.dir, 'vipbot.yaml'),
    keyPath: join(state.dir, 'id_ed25519'),
    knownHostsPath: join(state.dir, 'known_hosts'),
  };
}

async function listLabNamespaces(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  const re = new RegExp(`^${NETNS_PREFIX}node\\d+$`);
  return r.stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => re.test(n));
}

async function listLabLinks(): Promise<string[]> {
  const r = await run('ip', ['-o', 'link', 'show']);
  const re = new RegExp(`^(${VETH_PREFIX}node\\d+|${BRIDGE})$`);
  return r.stdout.split('\n').map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '').filter((n) => re.test(n));
}

/** The unshare process forks the host's init; its PID is what kills the host. */
async function findChildPid(parent: number): Promise<number> {
  const children = await readFile(`/proc/${parent}/task/${parent}/children`, 'utf8').catch(() => '');
  const first = children.trim().split(/\s+/)[0];
  if (first && /^\d+$/.test(first)) return Number(first);
  throw new Error(`cannot find the init process forked by unshare (pid ${parent})`);
}

function isLabProcess(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('/host/init.sh');
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie has exited; only its parent's wait() is missing.
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function failureDetail(dir: string, topology: Topology): Promise<string> {
  const parts: string[] = [];
  for (const h of topology.hosts.slice(0, 4)) {
    for (const f of ['init.log', 'keepalived.log', 'sshd.log']) {
      const t = tail(join(dir, 'hosts', h.name, f), 8);
      if (t) parts.push(`--- ${h.name} ${f}\n${t}`);
    }
  }
  return parts.length ? `\n${parts.join('\n')}` : '';
}

/** One up/down at a time on the machine: lab names (netns, bridge, cgroups) are global. */
const LOCK_FILE = '/run/vipbot-lab.lock';

async function withLabLock<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(LOCK_FILE, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(LOCK_FILE, 'utf8').catch(() => '')).trim());
      // A lock left by a killed run (kill -9) is stale once its process is gone.
      if (!processAlive(holder)) {
        await rm(LOCK_FILE, { force: true });
        continue;
      }
      if (attempt >= 600) throw new Error(`another lab up/down (pid ${holder}) still holds ${LOCK_FILE}`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(LOCK_FILE, { force: true });
  }
}

function assertRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces, bridges, mounts, cgroups); run it with sudo');
}

/** Binary → Debian package. The lab installs what is missing when it can (root + apt-get). */
const TOOLS: [string, string][] = [
  ['keepalived', 'keepalived'], ['sshd', 'openssh-server'], ['ssh-keygen', 'openssh-client'], ['ssh', 'openssh-client'],
  ['ip', 'iproute2'], ['nsenter', 'util-linux'], ['unshare', 'util-linux'], ['runuser', 'util-linux'], ['setsid', 'util-linux'],
  ['ps', 'procps'], ['timeout', 'coreutils'],
];

async function ensureTools(log: (line: string) => void): Promise<void> {
  const missing = () => TOOLS.filter(([bin]) => !LAB_PATH.split(':').some((d) => existsSync(join(d, bin))));
  let lacking = missing();
  if (lacking.length === 0) return;
  const packages = [...new Set(lacking.map(([, pkg]) => pkg))];
  const apt = LAB_PATH.split(':').some((d) => existsSync(join(d, 'apt-get')));
  if (apt) {
    log(`installing ${packages.join(' ')} (apt-get)`);
    const env = { ...process.env, PATH: LAB_PATH, DEBIAN_FRONTEND: 'noninteractive' };
    let r = await run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, timeoutMs: 600_000 });
    if (r.code !== 0) {
      await run('apt-get', ['update'], { env, timeoutMs: 600_000 });
      r = await run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, timeoutMs: 600_000 });
    }
    lacking = missing();
  }
  if (lacking.length > 0) {
    throw new Error(`the lab needs ${lacking.map(([b]) => b).join(', ')}; install: apt-get install -y ${[...new Set(lacking.map(([, p]) => p))].join(' ')}`);
  }
}

export { LAB_NET, ROLE_FILE, PRIMARY_CHECK, STANDBY_CHECK };

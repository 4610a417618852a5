// `npm run lab -- <command>`: drive the test lab by hand. See lab/README.md.
import {
  cut, heal, hostExec, labCpuShares, labDown, labStatus, labUp, partition, rekey, restoreHostKey, setRole, unpartition, vipHolders,
  type LabRole,
} from './lab.ts';
import { MAX_HOSTS } from './topology.ts';

const USAGE = `usage: npm run lab -- <command>
  up [N]                      bring up N hosts (default 2; node1..nodeN, pairs form clusters orcl, orcl2, ...)
  down                        remove everything the lab created
  status                      hosts, roles, keepalived, links, VIP holders
  role <node> <PRIMARY|STANDBY|down>   set the database role the check scripts see
  ssh <node> <cmd...>         run a command inside the host (nsenter, not SSH)
  cut <node> | heal <node>    take the host off the wire (timeouts, no RST) / put it back
  partition <a> <b>           drop traffic between two hosts (VRRP split brain); unpartition <a> <b>
  rekey <node>                new sshd host key (known_hosts keeps the old one); restore-key <node> undoes it
  holders                     JSON: which node holds each VIP
  cpu-shares <2..262144|off>  one CPU weight for the whole lab (cgroup v1; off = every process on its own)
Lab dir: $VIPBOT_LAB_DIR or <repo>/.lab`;

const ROLES: Record<string, LabRole> = { PRIMARY: 'PRIMARY', STANDBY: 'STANDBY', 'PHYSICAL STANDBY': 'STANDBY', DOWN: 'down' };

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const need = (n: number): void => {
    if (args.length < n) throw new UsageError(`${command} needs ${n} argument(s)`);
  };
  switch (command) {
    case 'up': {
      const count = args[0] === undefined ? 2 : Number(args[0]);
      if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) throw new UsageError(`N must be 1..${MAX_HOSTS}`);
      const info = await labUp(count, { log: (line) => console.log(`lab: ${line}`) });
      console.log(`lab: ${info.hosts.length} host(s) up; config ${info.configPath}`);
      console.log(`lab: try  ssh -i ${info.keyPath} -o UserKnownHostsFile=${info.knownHostsPath} root@${info.hosts[0]?.ip} systemctl status keepalived`);
      return 0;
    }
    case 'down': {
      const t0 = Date.now();
      await labDown();
      console.log(`lab: down (${((Date.now() - t0) / 1000).toFixed(2)}s)`);
      return 0;
    }
    case 'status':
      return printStatus();
    case 'role': {
      need(2);
      const role = ROLES[args.slice(1).join(' ').toUpperCase()];
      if (!role) throw new UsageError('role must be PRIMARY, STANDBY or down');
      await setRole(args[0] ?? '', role);
      return 0;
    }
    case 'ssh': {
      need(2);
      const r = await hostExec(args[0] ?? '', args.slice(1));
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return r.code;
    }
    case 'cut': need(1); await cut(args[0] ?? ''); return 0;
    case 'heal': need(1); await heal(args[0] ?? ''); return 0;
    case 'partition': need(2); await partition(args[0] ?? '', args[1] ?? ''); return 0;
    case 'unpartition': need(2); await unpartition(args[0] ?? '', args[1] ?? ''); return 0;
    case 'rekey': need(1); await rekey(args[0] ?? ''); return 0;
    case 'restore-key': need(1); await restoreHostKey(args[0] ?? ''); return 0;
    case 'holders': console.log(JSON.stringify(await vipHolders(), null, 2)); return 0;
    case 'cpu-shares': {
      need(1);
      const result = await labCpuShares(args[0] === 'off' ? 'unconfined' : Number(args[0]));
      if (result.reason) throw new Error(`cannot set the lab's CPU weight: ${result.reason}`);
      console.log(`lab: ${result.moved} process(es) in ${result.cgroup}${result.shares ? `, cpu.shares ${result.shares}` : ' (unconfined)'}`);
      return 0;
    }
    case undefined: case 'help': case '--help': case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function printStatus(): Promise<number> {
  const status = await labStatus();
  if (!status) {
    console.log('lab: no lab is up (npm run lab -- up)');
    return 1;
  }
  const rows = [['NODE', 'IP', 'CLUSTER', 'ROLE', 'KEEPALIVED', 'LINK', 'SSHD', 'VIPS']];
  for (const h of status.hosts) rows.push([h.name, h.ip, h.cluster, h.role, h.keepalived, h.link, h.sshd ? 'ok' : 'no', h.vips.join(',') || '-']);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  console.log(`config: ${status.info.configPath}`);
  return 0;
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof UsageError) console.error(USAGE);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);

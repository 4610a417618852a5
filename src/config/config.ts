import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { durationAtMost } from './duration.ts';
import { HostPath, ServiceName, stagingPathFor, timestampedBackupPathFor, UnixUser } from '../hosts/node-commands.ts';
import { MemoryThresholds } from '../memory/memory-report.ts';
import { isKnownTimeZone, isValidCronPattern } from '../memory/schedule.ts';

/** Names that may appear in Slack commands: matched by a strict grammar before anything else looks at them. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const Name = z.string().regex(NAME_PATTERN, 'use letters, digits, "_", "." or "-" (max 63), starting with a letter or digit');
const SlackPrincipal = z.string().regex(/^[USWG][A-Z0-9]{2,}$/, 'use a Slack user id (U…/W…) or user group id (S…)');
const SlackChannel = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'use a Slack channel id (C…/G…)');
const Hostname = z
  .string()
  .refine((h) => isIP(h) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(h), 'use an IP address or a DNS name');

/**
 * keepalived.conf's path: refused at load by exactly the rule the node-command builders apply at run
 * time (HostPath), including the staging and backup copies made next to it.
 */
const KeepalivedConfigPath = HostPath.refine((path) => {
  if (!HostPath.safeParse(path).success) return true; // HostPath has said why
  return [stagingPathFor(path), timestampedBackupPathFor(path, new Date(0))].every((copy) => HostPath.safeParse(copy).success);
}, 'is too long: its staging and backup copies next to it must fit a path of 1024 characters');

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Per-field maxima an operator would accept; each is named in the error with the YAML path. */
const ConnectTimeout = durationAtMost(5 * MINUTE);
const CommandTimeout = durationAtMost(HOUR);
const IdleTimeout = durationAtMost(DAY);
const ConvergeTimeout = durationAtMost(10 * MINUTE);
const ApprovalTimeout = durationAtMost(DAY);
const SampleEvery = durationAtMost(DAY);
const Retention = durationAtMost(400 * DAY, { timer: false });
const ShutdownGrace = durationAtMost(10 * MINUTE);
const ReactionName = z.string().regex(/^[a-z0-9_+'-]+$/, 'use an emoji name without colons, e.g. white_check_mark');

export const SshSettings = z.object({
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, 'use a Unix user name').default('root'),
  port: z.number().int().min(1).max(65535).default(22),
  privateKeyPath: z.string().min(1).default('/etc/vipbot/id_ed25519'),
  knownHostsPath: z.string().min(1).default('/etc/vipbot/known_hosts'),
  sudo: z.boolean().default(false),
  connectTimeout: ConnectTimeout.default(5_000),
  commandTimeout: CommandTimeout.default(30_000),
  /** An unused pooled connection is closed after this long. */
  idleTimeout: IdleTimeout.default(60_000),
}).strict();
export type SshSettings = z.infer<typeof SshSettings>;

export const KeepalivedSettings = z.object({
  configPath: KeepalivedConfigPath.default('/etc/keepalived/keepalived.conf'),
  service: ServiceName.default('keepalived'),
  apply: z.enum(['reload', 'restart']).default('reload'),
  promoteStep: z.number().int().min(1).max(253).default(50),
  convergeTimeout: ConvergeTimeout.default(20_000),
}).strict();
export type KeepalivedSettings = z.infer<typeof KeepalivedSettings>;

/** Per-cluster or per-node overrides: any subset of the global settings. */
const SshOverride = z.object({
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  privateKeyPath: z.string().min(1).optional(),
  knownHostsPath: z.string().min(1).optional(),
  sudo: z.boolean().optional(),
  connectTimeout: ConnectTimeout.optional(),
  commandTimeout: CommandTimeout.optional(),
  idleTimeout: IdleTimeout.optional(),
}).strict();
const KeepalivedOverride = z.object({
  configPath: KeepalivedConfigPath.optional(),
  service: ServiceName.optional(),
  apply: z.enum(['reload', 'restart']).optional(),
  promoteStep: z.number().int().min(1).max(253).optional(),
  convergeTimeout: ConvergeTimeout.optional(),
}).strict();

/** `198.51.100.100` or `198.51.100.100/24`: the address is compared with what hosts hold, the prefix is for `vipbot render`. */
const VipAddress = z.string().superRefine((text, ctx) => {
  const [ip = '', prefix, ...rest] = text.split('/');
  const family = isIP(ip);
  if (family === 0 || rest.length > 0) ctx.addIssue({ code: 'custom', message: 'use an IPv4 or IPv6 address, optionally with a prefix length (198.51.100.100/24)' });
  else if (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))) ctx.addIssue({ code: 'custom', message: `prefix length must be 0..${family === 4 ? 32 : 128}` });
});

export const VipConfig = z.object({
  name: Name,
  instance: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use the vrrp_instance name as written in keepalived.conf'),
  address: VipAddress,
  /** For `vipbot render`: virtual_router_id, the track script, and the node that is MASTER for this VIP. */
  routerId: z.number().int().min(1).max(255).optional(),
  track: HostPath.optional(),
  master: Name.optional(),
}).strict().transform(({ address, ...rest }) => {
  const [ip = address, prefix] = address.split('/');
  return { ...rest, address: ip, ...(prefix !== undefined ? { prefixLength: Number(prefix) } : {}) };
});
export type VipConfig = z.infer<typeof VipConfig>;

/** How `vipbot render` writes a cluster's keepalived.conf files (SPEC §9). */
export const RenderConfig = z.object({
  interface: z.string().regex(/^[A-Za-z0-9_.:@-]{1,15}$/, 'use a network interface name, e.g. eth0'),
  advertInt: z.number().int().min(1).max(255).default(1),
  checks: z.object({
    interval: z.number().int().min(1).max(3600).default(5),
    rise: z.number().int().min(1).max(100).default(2),
    fall: z.number().int().min(1).max(100).default(2),
  }).strict().default({ interval: 5, rise: 2, fall: 2 }),
  /** `user <scriptUser>` in every vrrp_script (the notes run the checks as oracle); null = keepalived's default. */
  scriptUser: UnixUser.nullable().default(null),
  /** VRRP PASS authentication (keepalived uses the first 8 characters); null = none. */
  authPass: z.string().regex(/^[A-Za-z0-9_.+-]{1,8}$/, 'use 1 to 8 letters, digits or _ . + - (keepalived ignores the rest)').nullable().default(null),
  /** A global_defs block with enable_script_security (the lab's files); false = none (the team's files). */
  globalDefs: z.boolean().default(true),
  indent: z.number().int().min(1).max(8).default(6),
}).strict();
export type RenderConfig = z.infer<typeof RenderConfig>;

export const NodeConfig = z.object({
  name: Name,
  host: Hostname,
  ssh: SshOverride.optional(),
  keepalived: KeepalivedOverride.optional(),
}).strict();
export type NodeConfig = z.infer<typeof NodeConfig>;

export const ClusterConfig = z.object({
  name: Name,
  render: RenderConfig.optional(),
  vips: z.array(VipConfig).min(1, 'list at least one VIP'),
  nodes: z.array(NodeConfig).min(1, 'list at least one node'),
  ssh: SshOverride.optional(),
  keepalived: KeepalivedOverride.optional(),
}).strict();
export type ClusterConfig = z.infer<typeof ClusterConfig>;

export const AccessConfig = z.object({
  viewers: z.array(SlackPrincipal).default([]),
  operators: z.array(SlackPrincipal).default([]),
  approvers: z.array(SlackPrincipal).default([]),
  channels: z.array(SlackChannel).default([]),
  approvalTimeout: ApprovalTimeout.default(15 * 60_000),
  approveReactions: z.array(ReactionName).min(1).default(['white_check_mark', 'heavy_check_mark', '+1']),
  rejectReactions: z.array(ReactionName).min(1).default(['x', 'no_entry_sign']),
}).strict();
export type AccessConfig = z.infer<typeof AccessConfig>;

export const MemoryConfig = z.object({
  sampleEvery: SampleEvery.default(3_600_000),
  retention: Retention.default(35 * 86_400_000),
  dailySummary: z.object({
    cron: z.string().refine(isValidCronPattern, 'use a cron pattern of 5 fields (minute hour day month weekday) or 6 (seconds first), e.g. "0 9 * * *"').default('0 9 * * *'),
    timezone: z.string().refine(isKnownTimeZone, 'use an IANA time zone, e.g. Europe/Moscow or UTC').default('UTC'),
    channel: SlackChannel.optional(),
  }).strict().optional(),
  /** Verdict thresholds (src/memory/memory-report.ts); any subset, the rest keep their defaults. */
  thresholds: MemoryThresholds.partial().strict().optional(),
}).strict();
export type MemoryConfig = z.infer<typeof MemoryConfig>;

/** The status watch (SPEC §9): every `every`, post to `channel` only when the set of warnings changes. */
export const StatusWatchConfig = z.object({
  every: durationAtMost(HOUR).refine((ms) => ms >= 10_000, 'at least 10s: each round reads every node').default(MINUTE),
  channel: SlackChannel,
}).strict();
export type StatusWatchConfig = z.infer<typeof StatusWatchConfig>;

export const VipbotConfig = z.object({
  access: AccessConfig.default(AccessConfig.parse({})),
  ssh: SshSettings.default(SshSettings.parse({})),
  keepalived: KeepalivedSettings.default(KeepalivedSettings.parse({})),
  memory: MemoryConfig.default(MemoryConfig.parse({})),
  /** No `status` key = no watch. */
  status: StatusWatchConfig.optional(),
  /** SIGTERM: running jobs get this long to finish before workers, queues and connections close (SPEC §8). */
  shutdownGrace: ShutdownGrace.default(30_000),
  clusters: z.array(ClusterConfig).min(1, 'list at least one cluster'),
}).strict();
export type VipbotConfig = z.infer<typeof VipbotConfig>;

/** One problem in the config, with the YAML path it sits at (e.g. `clusters[0].nodes[1].host`). */
export interface ConfigProblem { path: string; message: string }

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(readonly source: string, readonly problems: ConfigProblem[]) {
    super(`${source}: ${problems.length} problem(s)\n` + problems.map((p) => `  ${p.path || '(top)'}: ${p.message}`).join('\n'));
  }
}

/** Formats a zod issue path as the YAML path an operator would look for. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Validates already-parsed YAML; every problem is reported at once. */
export function validateConfig(raw: unknown, source = 'config'): VipbotConfig {
  const result = VipbotConfig.safeParse(raw);
  const problems = result.success ? [] : result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  // Cross-field checks run on the raw input so they are reported together with shape errors.
  problems.push(...checkNames(raw), ...checkRenderFields(raw));
  if (!result.success || problems.length > 0) throw new ConfigError(source, problems);
  return result.data;
}

/** Names must be unique: nodes across the whole file, clusters, VIPs within a cluster. */
function checkNames(raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const clusters = (raw as { clusters?: unknown } | null)?.clusters;
  if (!Array.isArray(clusters)) return problems;
  const nameOf = (v: unknown): string | undefined => {
    const n = (v as { name?: unknown } | null)?.name;
    return typeof n === 'string' ? n : undefined;
  };
  const seenNodes = new Map<string, string>();
  const seenClusters = new Set<string>();
  clusters.forEach((cluster: unknown, ci) => {
    const clusterName = nameOf(cluster) ?? `#${ci}`;
    if (seenClusters.has(clusterName)) problems.push({ path: `clusters[${ci}].name`, message: `cluster name "${clusterName}" is used twice` });
    seenClusters.add(clusterName);
    const nodes = (cluster as { nodes?: unknown }).nodes;
    if (Array.isArray(nodes)) {
      nodes.forEach((node: unknown, ni) => {
        const name = nameOf(node);
        if (name === undefined) return;
        const other = seenNodes.get(name);
        if (other !== undefined) problems.push({ path: `clusters[${ci}].nodes[${ni}].name`, message: `node name "${name}" is already used in cluster ${other}; node names must be unique across the file` });
        seenNodes.set(name, clusterName);
      });
    }
    const vips = (cluster as { vips?: unknown }).vips;
    if (Array.isArray(vips)) {
      const vipNames = new Set<string>();
      vips.forEach((vip: unknown, vi) => {
        const name = nameOf(vip);
        if (name === undefined) return;
        if (vipNames.has(name)) problems.push({ path: `clusters[${ci}].vips[${vi}].name`, message: `VIP name "${name}" is used twice in cluster ${clusterName}` });
        vipNames.add(name);
      });
    }
  });
  // A node and a cluster with one name would make `/vip status <name>` ambiguous.
  for (const [node] of seenNodes) {
    if (seenClusters.has(node)) problems.push({ path: 'clusters', message: `"${node}" names both a cluster and a node; rename one so commands are unambiguous` });
  }
  return problems;
}

/** A cluster with a `render` block needs, on every VIP, the router id, the track script and a MASTER that is one of its nodes. */
function checkRenderFields(raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const clusters = (raw as { clusters?: unknown } | null)?.clusters;
  if (!Array.isArray(clusters)) return problems;
  clusters.forEach((cluster: unknown, ci) => {
    const c = cluster as { render?: unknown; vips?: unknown; nodes?: unknown } | null;
    if (!c?.render || !Array.isArray(c.vips)) return;
    const nodeNames = Array.isArray(c.nodes) ? c.nodes.map((n) => (n as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string') : [];
    const routerIds = new Map<unknown, number>();
    c.vips.forEach((vip: unknown, vi) => {
      const v = (vip ?? {}) as { routerId?: unknown; track?: unknown; master?: unknown };
      const at = `clusters[${ci}].vips[${vi}]`;
      for (const field of ['routerId', 'track', 'master'] as const) {
        if (v[field] === undefined) problems.push({ path: `${at}.${field}`, message: `required when the cluster has a render block (see \`vipbot render\` in the README)` });
      }
      if (typeof v.master === 'string' && !nodeNames.includes(v.master)) problems.push({ path: `${at}.master`, message: `"${v.master}" is not a node of this cluster; use one of: ${nodeNames.join(', ')}` });
      if (v.routerId !== undefined) {
        const other = routerIds.get(v.routerId);
        if (other !== undefined) problems.push({ path: `${at}.routerId`, message: `virtual_router_id ${String(v.routerId)} is already used by vips[${other}]; each VIP needs its own` });
        routerIds.set(v.routerId, vi);
      }
    });
  });
  return problems;
}

/** Parses YAML text and validates it. */
export function parseConfigText(text: string, source = 'config'): VipbotConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0] ?? e.message })));
  }
  return validateConfig(doc.toJS(), source);
}

/** Reads and validates the YAML config file. */
export function loadConfig(path: string): VipbotConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found; set VIPBOT_CONFIG to the config path' : (err as Error).message;
    throw new ConfigError(path, [{ path: 'VIPBOT_CONFIG', message: reason }]);
  }
  return parseConfigText(text, path);
}

/** A node with its cluster and the ssh/keepalived settings that apply to it after overrides. */
export interface ResolvedNode {
  cluster: ClusterConfig;
  node: NodeConfig;
  ssh: SshSettings;
  keepalived: KeepalivedSettings;
}

export function resolveNode(config: VipbotConfig, cluster: ClusterConfig, node: NodeConfig): ResolvedNode {
  return {
    cluster,
    node,
    ssh: { ...config.ssh, ...stripUndefined(cluster.ssh), ...stripUndefined(node.ssh) },
    keepalived: { ...config.keepalived, ...stripUndefined(cluster.keepalived), ...stripUndefined(node.keepalived) },
  };
}

/** All nodes of the config, resolved, in file order. */
export function allNodes(config: VipbotConfig): ResolvedNode[] {
  return config.clusters.flatMap((cluster) => cluster.nodes.map((node) => resolveNode(config, cluster, node)));
}

export function findNode(config: VipbotConfig, name: string): ResolvedNode | undefined {
  return allNodes(config).find((n) => n.node.name === name);
}

function stripUndefined<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

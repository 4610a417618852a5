/**
 * Parsers for the cgroup memory files of keepalived's unit. Hosts differ: RHEL 7 and older Debian run
 * cgroup v1 (`memory.usage_in_bytes`, v1 `memory.stat`), newer ones v2 (`memory.current`, v2
 * `memory.stat`). Both figures include page cache, which is why `systemctl status` "Memory:" grows
 * while keepalived's RSS does not; the anon/file split says which part grew.
 */
import { z } from 'zod';
import { VipbotError } from '../errors.ts';

/** The part of memory.stat the analysis uses, in bytes. */
export const CgroupMemoryStat = z.object({
  /** Anonymous memory (heap, stacks): where a leak in keepalived or its check scripts shows up. */
  anon: z.number().int().nonnegative(),
  /** File-backed memory, i.e. page cache (v1 `cache` also counts shmem). Reclaimable. */
  file: z.number().int().nonnegative(),
  shmem: z.number().int().nonnegative().optional(),
  mappedFile: z.number().int().nonnegative().optional(),
  /** v2 only: kernel slab and socket buffers, which are charged to the unit too. */
  slab: z.number().int().nonnegative().optional(),
  sock: z.number().int().nonnegative().optional(),
});
export type CgroupMemoryStat = z.infer<typeof CgroupMemoryStat>;

function readKeyValues(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^\s*([a-z_0-9]+)\s+(\d+)\s*$/.exec(line);
    if (match) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

function unrecognised(what: string, expected: string): VipbotError {
  return new VipbotError(
    'memory_stat_unrecognised',
    `${what} does not look like a cgroup memory.stat (no ${expected} lines)`,
    'read /sys/fs/cgroup/system.slice/keepalived.service/memory.stat (v2) or /sys/fs/cgroup/memory/system.slice/keepalived.service/memory.stat (v1)',
  );
}

function withOptional(base: CgroupMemoryStat, extra: Record<string, number | undefined>): CgroupMemoryStat {
  const out: CgroupMemoryStat = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined) (out as Record<string, number>)[key] = value;
  }
  return out;
}

/** cgroup v2 `memory.stat` (`anon`, `file`, `shmem`, `file_mapped`, `slab`, `sock`, …). */
export function parseMemoryStatV2(text: string): CgroupMemoryStat {
  const v = readKeyValues(text);
  const anon = v.get('anon');
  const file = v.get('file');
  if (anon === undefined || file === undefined) throw unrecognised('cgroup v2 memory.stat', '"anon" and "file"');
  return withOptional({ anon, file }, {
    shmem: v.get('shmem'),
    mappedFile: v.get('file_mapped'),
    slab: v.get('slab'),
    sock: v.get('sock'),
  });
}

/**
 * cgroup v1 `memory.stat`. The `total_*` keys include child cgroups (hierarchical accounting), which is
 * what `memory.usage_in_bytes` counts too, so they are preferred when present. v1 `rss` is anonymous
 * memory (plus swap cache), not the sum of process RSS.
 */
export function parseMemoryStatV1(text: string): CgroupMemoryStat {
  const v = readKeyValues(text);
  const pick = (key: string): number | undefined => v.get(`total_${key}`) ?? v.get(key);
  const anon = pick('rss');
  const file = pick('cache');
  if (anon === undefined || file === undefined) throw unrecognised('cgroup v1 memory.stat', '"rss"/"total_rss" and "cache"/"total_cache"');
  return withOptional({ anon, file }, {
    shmem: pick('shmem'),
    mappedFile: pick('mapped_file'),
  });
}

/** Either version, told apart by their keys (v2 has `anon`/`file`, v1 has `rss`/`cache`). */
export function parseMemoryStat(text: string): CgroupMemoryStat {
  const v = readKeyValues(text);
  if (v.has('anon') && v.has('file')) return parseMemoryStatV2(text);
  if ((v.has('rss') || v.has('total_rss')) && (v.has('cache') || v.has('total_cache'))) return parseMemoryStatV1(text);
  throw unrecognised('the text', 'anon/file (v2) or rss/cache (v1)');
}

/**
 * A single-number cgroup file: v2 `memory.current` or v1 `memory.usage_in_bytes` (bytes).
 * Throws `memory_current_unrecognised` when the text is not one non-negative integer.
 */
export function parseCgroupMemoryCurrent(text: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) {
    throw new VipbotError(
      'memory_current_unrecognised',
      `expected one number of bytes in memory.current / memory.usage_in_bytes, got "${trimmed.slice(0, 40)}"`,
      'read the file of keepalived\'s unit cgroup (see /proc/<MainPID>/cgroup for its path)',
    );
  }
  return Number(trimmed);
}

/**
 * systemd's `MemoryCurrent=` property (from `systemctl show`). systemd reports `[not set]` or
 * 2^64-1 when memory accounting is off for the unit: that is "unknown", not 16 EiB.
 */
export function parseSystemdMemoryCurrent(value: string): number | undefined {
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  if (trimmed === '18446744073709551615') return undefined;
  const n = Number(trimmed);
  return Number.isSafeInteger(n) ? n : undefined;
}

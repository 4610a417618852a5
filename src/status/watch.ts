/**
 * The status watch (SPEC §9): speaks up only when the set of warnings (cluster + code + nodes) changes,
 * including an all-clear when they are gone. Pure: the previous state and a fresh status in, what to
 * say (if anything) and the state to keep out.
 */
import { z } from 'zod';
import type { VipStatus } from '../model.ts';

export const WatchedWarning = z.object({ cluster: z.string(), code: z.string(), nodes: z.array(z.string()) });
export type WatchedWarning = z.infer<typeof WatchedWarning>;

/** What the watch remembers between runs (in Redis, so any worker may run the next round). */
export const WatchState = z.object({ warnings: z.array(WatchedWarning), at: z.string() });
export type WatchState = z.infer<typeof WatchState>;

export interface WatchChange {
  added: WatchedWarning[];
  cleared: WatchedWarning[];
  /** No warning is left anywhere (and there were some before). */
  allClear: boolean;
}

const keyOf = (w: WatchedWarning): string => JSON.stringify([w.cluster, w.code, w.nodes]);

/** The warning set of a status, normalised (nodes sorted, duplicates merged) and in a stable order. */
export function watchedWarnings(status: VipStatus): WatchedWarning[] {
  const seen = new Map<string, WatchedWarning>();
  for (const cluster of status.clusters) {
    for (const w of cluster.warnings) {
      const item = { cluster: cluster.name, code: w.code, nodes: [...new Set(w.nodes)].sort() };
      seen.set(keyOf(item), item);
    }
  }
  return [...seen.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

/**
 * Compares with the last state. The first round (no state yet) reports its warnings as new, and says
 * nothing when there are none: an all-clear needs something to clear.
 */
export function compareWarnings(previous: WatchState | undefined, current: readonly WatchedWarning[]): WatchChange | undefined {
  const before = new Map((previous?.warnings ?? []).map((w) => [keyOf(w), w]));
  const now = new Map(current.map((w) => [keyOf(w), w]));
  const added = [...now].filter(([k]) => !before.has(k)).map(([, w]) => w);
  const cleared = [...before].filter(([k]) => !now.has(k)).map(([, w]) => w);
  if (added.length === 0 && cleared.length === 0) return undefined;
  return { added, cleared, allClear: now.size === 0 };
}

/** `vipbot_warnings{cluster,code}`: 1 for each warning code present in a cluster. */
export function warningGauge(state: WatchState | undefined): Array<{ cluster: string; code: string; value: number }> {
  const present = new Map<string, { cluster: string; code: string; value: number }>();
  for (const w of state?.warnings ?? []) present.set(`${w.cluster}\u0000${w.code}`, { cluster: w.cluster, code: w.code, value: 1 });
  return [...present.values()];
}

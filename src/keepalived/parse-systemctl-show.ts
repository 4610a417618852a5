/**
 * `systemctl show <unit>` properties, the machine-readable form (SPEC §7: never parse `systemctl status`).
 */
import { z } from 'zod';

/** Parses `Key=Value` lines. Values keep everything after the first `=` (they may contain `=`). */
export function parseSystemctlShow(text: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    props[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return props;
}

export const ServiceSummary = z.object({
  keepalived: z.enum(['active', 'inactive', 'unknown']),
  activeState: z.string().optional(),
  subState: z.string().optional(),
  mainPid: z.number().int().optional(),
  /** The unit's cgroup memory in bytes. It includes page cache, which is why it grows while RSS stays flat. */
  memoryCurrent: z.number().optional(),
  /** systemd's timestamp text, e.g. "Sat 2024-12-28 06:00:26 MSK" (only while the unit is up). */
  startedAt: z.string().optional(),
  nRestarts: z.number().int().optional(),
});
export type ServiceSummary = z.infer<typeof ServiceSummary>;

/** systemd prints this (UINT64_MAX) for "no value" in some versions instead of `[not set]`. */
const UINT64_MAX = '18446744073709551615';

/**
 * Reduces the properties to what the status and memory views need. `activating` and `reloading` count
 * as active (keepalived is running or about to, and holds or will hold its VIPs); `failed`, `inactive`
 * and `deactivating` as inactive; anything else (or no ActiveState) as unknown.
 */
export function summariseService(props: Record<string, string>): ServiceSummary {
  const activeState = nonEmpty(props.ActiveState);
  const subState = nonEmpty(props.SubState);
  const keepalived = toServiceState(activeState);
  const mainPid = toInteger(props.MainPID);
  const memoryCurrent = props.MemoryCurrent === UINT64_MAX ? undefined : toInteger(props.MemoryCurrent);
  const startedAt = keepalived === 'active' ? nonEmpty(props.ActiveEnterTimestamp) ?? nonEmpty(props.ExecMainStartTimestamp) : undefined;
  const nRestarts = toInteger(props.NRestarts);
  return {
    keepalived,
    ...(activeState !== undefined ? { activeState } : {}),
    ...(subState !== undefined ? { subState } : {}),
    // MainPID=0 means "no main process".
    ...(mainPid ? { mainPid } : {}),
    ...(memoryCurrent !== undefined ? { memoryCurrent } : {}),
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(nRestarts !== undefined ? { nRestarts } : {}),
  };
}

function toServiceState(activeState: string | undefined): ServiceSummary['keepalived'] {
  switch (activeState) {
    case 'active':
    case 'activating':
    case 'reloading':
    case 'refreshing': // systemd ≥ 257 name for a reload in progress
      return 'active';
    case 'inactive':
    case 'failed':
    case 'deactivating':
      return 'inactive';
    default:
      return 'unknown';
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' || value === 'n/a' ? undefined : value;
}

/** Integer property, or undefined for `[not set]`, `infinity`, empty and the like. */
function toInteger(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Byte sizes as systemd and ps print them, and back as text for people.
 */

const KIB = 1024;
const MIB = 1024 * 1024;

/** systemd's `format_bytes` suffixes are powers of 1024 even though it prints "M", not "MiB". */
const SUFFIX_POWER: Record<string, number> = { B: 0, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };

/**
 * Parses a size as systemd prints it (`120.6M`, `1.0G`, `512B`, `4K`) into bytes, rounded to whole bytes.
 * Also takes the IEC spellings (`120.6MiB`) and a plain byte count. Returns undefined for anything else.
 */
export function parseSystemdBytes(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([BKMGTPE])?(?:i?B)?$/i.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const power = SUFFIX_POWER[(match[2] ?? 'B').toUpperCase()] ?? 0;
  return Math.round(value * 1024 ** power);
}

/** KiB (as ps and /proc print them) to bytes. */
export function kibToBytes(kib: number): number {
  return kib * KIB;
}

/** `123.4 MiB`, or KiB/GiB when that reads better. */
export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs >= 1024 * MIB) return `${(bytes / (1024 * MIB)).toFixed(2)} GiB`;
  if (abs >= MIB) return `${(bytes / MIB).toFixed(1)} MiB`;
  if (abs >= KIB) return `${(bytes / KIB).toFixed(0)} KiB`;
  return `${Math.round(bytes)} B`;
}

/** Signed rate for messages: `+1.2 MiB/day`, `-300 KiB/day`. */
export function formatRatePerDay(bytesPerDay: number): string {
  const sign = bytesPerDay >= 0 ? '+' : '-';
  return `${sign}${formatBytes(Math.abs(bytesPerDay))}/day`;
}

/** Bytes to MiB as a plain number (charts). */
export function bytesToMiB(bytes: number): number {
  return bytes / MIB;
}

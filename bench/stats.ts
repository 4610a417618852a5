/** Small statistics for the bench: nearest-rank percentiles, medians and formatting. */

/** Nearest-rank percentile (p in 0..100) of the samples; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? Number.NaN;
}

/** The median (mean of the two middle values for an even count); NaN for no samples. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? Number.NaN) + upper) / 2;
}

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function summarise(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    median: median(samples),
    min: samples.length ? Math.min(...samples) : Number.NaN,
    max: samples.length ? Math.max(...samples) : Number.NaN,
  };
}

/** Milliseconds with a precision that suits the magnitude: `0.84 ms`, `12.3 ms`, `245 ms`. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 100) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(0)} ms`;
}

/** `median (min–max)` in ms. */
export function spread(s: Summary): string {
  return `${ms(s.median)} (${ms(s.min).replace(' ms', '')}–${ms(s.max)})`;
}

/** KiB as MB (10^6 bytes, as the 200 MB target is written). */
export function mb(kib: number): string {
  return Number.isFinite(kib) ? `${((kib * 1024) / 1e6).toFixed(1)} MB` : 'n/a';
}

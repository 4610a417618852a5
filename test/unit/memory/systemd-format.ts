/**
 * Test helpers that print what the notes' crontab would have logged: systemd's relative time
 * (format_timestamp_relative, with older systemd's always-plural units) and C-locale `date`.
 */
const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;
const W = 7 * D;
const MONTH = 2_629_800 * S;
const YEAR = 31_557_600 * S;

export function formatSystemdRelative(ms: number): string {
  if (ms >= YEAR) return `${Math.floor(ms / YEAR)} years ${Math.floor((ms % YEAR) / MONTH)} months ago`;
  if (ms >= MONTH) return `${Math.floor(ms / MONTH)} months ${Math.floor((ms % MONTH) / D)} days ago`;
  if (ms >= W) return `${Math.floor(ms / W)} weeks ${Math.floor((ms % W) / D)} days ago`;
  if (ms >= 2 * D) return `${Math.floor(ms / D)} days ago`;
  if (ms >= 25 * H) return `1 day ${Math.floor((ms - D) / H)}h ago`;
  if (ms >= 6 * H) return `${Math.floor(ms / H)}h ago`;
  if (ms >= H) return `${Math.floor(ms / H)}h ${Math.floor((ms % H) / MIN)}min ago`;
  if (ms >= 5 * MIN) return `${Math.floor(ms / MIN)}min ago`;
  if (ms >= MIN) return `${Math.floor(ms / MIN)}min ${Math.floor((ms % MIN) / S)}s ago`;
  if (ms >= S) return `${Math.floor(ms / S)}s ago`;
  return 'now';
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** `Sat 2024-12-28 06:00:26 MSK` (MSK = UTC+3). */
export function formatSystemdTimestampMsk(t: number): string {
  const d = new Date(t + 3 * H);
  return `${DAYS[d.getUTCDay()]} ${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} MSK`;
}

/** `Wed Jan  1 09:00:01 MSK 2025`. */
export function formatDateMsk(t: number): string {
  const d = new Date(t + 3 * H);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} MSK ${d.getUTCFullYear()}`;
}

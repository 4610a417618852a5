/**
 * `ip -o addr show` output: one line per address. (`ip -j` is not on every host we support.)
 *
 *   3: eth0    inet 198.51.100.101/24 scope global secondary eth0:1\       valid_lft forever preferred_lft forever
 *
 * In one-line mode ip replaces the record's inner newlines by `\`; everything after the first `\` is
 * lifetimes, which we do not need. For IPv4 ip always prints the address label last (the interface
 * name when no `label` was given).
 */
import { isIPv6 } from 'node:net';
import { z } from 'zod';
import { VipbotError } from '../errors.ts';

export const IpAddress = z.object({
  ifindex: z.number().int(),
  ifname: z.string(),
  family: z.enum(['inet', 'inet6']),
  /** Without prefix; IPv6 in canonical (RFC 5952) form. */
  address: z.string(),
  prefixLength: z.number().int(),
  /** IPv4 alias label (e.g. eth0:1) when it differs from the interface name. */
  label: z.string().optional(),
});
export type IpAddress = z.infer<typeof IpAddress>;

/** Keywords ip prints with a value after them. */
const VALUE_KEYWORDS = new Set(['brd', 'any', 'peer', 'scope', 'metric', 'proto', 'flags']);

const LINE = /^\s*(\d+):\s+(\S+)\s+(\S+)\s+(.*)$/;

/**
 * Parses the output. Blank lines are skipped and families other than inet/inet6 (e.g. `link/…` from
 * other `ip` subcommands) ignored; a line that is not `N: ifname family …` throws `ip_output_invalid`.
 */
export function parseIpAddr(text: string): IpAddress[] {
  const out: IpAddress[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const m = LINE.exec(line);
    if (!m) throw invalid(i + 1, line);
    const family = m[3]!;
    if (family !== 'inet' && family !== 'inet6') return;
    const ifname = m[2]!.replace(/:$/, '').split('@')[0]!;
    const words = m[4]!.split('\\')[0]!.trim().split(/\s+/);
    let [address, prefix] = splitPrefix(words[0] ?? '');
    let label: string | undefined;
    for (let k = 1; k < words.length; k++) {
      const word = words[k]!;
      if (VALUE_KEYWORDS.has(word)) {
        // point-to-point: "inet 10.0.0.1 peer 10.0.0.2/32" carries the prefix on the peer
        if (word === 'peer' && prefix === undefined) prefix = splitPrefix(words[k + 1] ?? '')[1];
        k++;
      } else if (family === 'inet' && k === words.length - 1) {
        label = word;
      }
    }
    if (!address || prefix === undefined) throw invalid(i + 1, line);
    out.push({
      ifindex: Number(m[1]),
      ifname,
      family,
      address: normaliseIpAddress(address),
      prefixLength: prefix,
      ...(label !== undefined && label !== ifname ? { label } : {}),
    });
  });
  return out;
}

function splitPrefix(word: string): [string, number | undefined] {
  const slash = word.indexOf('/');
  if (slash < 0) return [word, undefined];
  const prefix = word.slice(slash + 1);
  return [word.slice(0, slash), /^\d{1,3}$/.test(prefix) ? Number(prefix) : undefined];
}

function invalid(line: number, text: string): VipbotError {
  return new VipbotError('ip_output_invalid', `ip -o addr output line ${line} is not "N: ifname inet|inet6 address/prefix …": ${text.slice(0, 120)}`, 'check the ip command the host runs (iproute2 `ip -o addr show` is expected)');
}

/**
 * Canonical text of an address so that `2001:DB8:0::1` and `2001:db8::1` compare equal. IPv4 and
 * anything unparseable are returned unchanged (without a `%zone`).
 */
export function normaliseIpAddress(address: string): string {
  const bare = address.split('%')[0]!;
  if (!isIPv6(bare)) return bare;
  let text = bare.toLowerCase();
  // a trailing dotted IPv4 (::ffff:192.0.2.1) becomes two hex groups
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left, right] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const head = left ? left.split(':') : [];
  const tail = right ? right.split(':') : [];
  const groups = right === undefined ? head : [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  const hextets = groups.map((g) => parseInt(g, 16).toString(16));
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first one on a tie
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (hextets[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && hextets[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return hextets.join(':');
  return `${hextets.slice(0, best).join(':')}::${hextets.slice(best + bestLen).join(':')}`;
}

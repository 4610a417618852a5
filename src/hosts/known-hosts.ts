/**
 * OpenSSH `known_hosts` parsing and host-key verification. Pure: text in, verdict out; the SSH pool
 * reads the file and turns a refusal into a coded error with `hostKeyError`.
 *
 * Follows OpenSSH's rules (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT", hostfile.c, match.c):
 * - the name looked up is `host` for port 22 and `[host]:port` otherwise, lower-cased;
 * - a line's host list is comma-separated patterns with `*` and `?`; a matching `!pattern` excludes
 *   the line even if another pattern matches;
 * - `|1|salt|hash` is HMAC-SHA1(key = salt, data = looked-up name), both base64;
 * - `@revoked` marks a key that must never be accepted; `@cert-authority` lines hold CA keys, which
 *   we do not use (no host certificates), so they are skipped.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { VipbotError } from '../errors.ts';

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  /** 1-based line number in the file, for messages an operator can act on. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written (a pattern list or one `|1|salt|hash`). */
  hosts: string;
  hashed: boolean;
  keyType: string;
  /** The raw public key blob (base64-decoded). */
  key: Buffer;
}

/** A line that could not be used; OpenSSH skips these too, we keep them so a checker can report them. */
export interface KnownHostsProblem {
  line: number;
  message: string;
}

/** A parsed known_hosts file. */
export interface KnownHosts {
  entries: KnownHostEntry[];
  problems: KnownHostsProblem[];
}

/** Outcome of checking a presented host key. `line` points at the entry that decided it. */
export type HostKeyVerdict =
  | { ok: true; line?: number }
  | { ok: false; reason: 'unknown' | 'changed' | 'revoked'; line?: number };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const KEY_TYPE = /^(ssh-ed25519|ssh-ed448|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9-]+@openssh\.com|[a-z0-9-]+-cert-v01@openssh\.com)$/;

/** Parses known_hosts text; unusable lines land in `problems`, never throw. */
export function parseKnownHosts(text: string): KnownHosts {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = trimmed.split(/[ \t]+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift();
      if (name === '@revoked') marker = 'revoked';
      else if (name === '@cert-authority') marker = 'cert-authority';
      else {
        problems.push({ line, message: `unknown marker ${name}` });
        return;
      }
    }
    const [hosts, keyType, keyText] = fields;
    if (hosts === undefined || keyType === undefined || keyText === undefined) {
      problems.push({ line, message: 'expected: [marker] hosts key-type base64-key [comment]' });
      return;
    }
    if (!KEY_TYPE.test(keyType)) {
      problems.push({ line, message: `unknown key type ${keyType}` });
      return;
    }
    if (!BASE64.test(keyText)) {
      problems.push({ line, message: 'the key is not base64' });
      return;
    }
    const key = Buffer.from(keyText, 'base64');
    // The blob names its own type; a mismatch means a damaged or hand-edited line.
    if (readKeyType(key) !== keyType) {
      problems.push({ line, message: `the key blob is not a ${keyType} key` });
      return;
    }
    const hashed = hosts.startsWith('|');
    if (hashed && !/^\|1\|[A-Za-z0-9+/]+={0,2}\|[A-Za-z0-9+/]+={0,2}$/.test(hosts)) {
      problems.push({ line, message: 'hashed host is not |1|salt|hash' });
      return;
    }
    entries.push({ line, ...(marker ? { marker } : {}), hosts, hashed, keyType, key });
  });
  return { entries, problems };
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostLookupName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** True when `hosts` (a pattern list or a hashed name) selects the looked-up name. */
export function matchHostField(hosts: string, lookupName: string): boolean {
  if (hosts.startsWith('|1|')) return matchHashedHost(hosts, lookupName);
  let matched = false;
  for (const rawPattern of hosts.split(',')) {
    if (rawPattern === '') continue;
    const negated = rawPattern.startsWith('!');
    const pattern = (negated ? rawPattern.slice(1) : rawPattern).toLowerCase();
    if (!matchWildcard(pattern, lookupName)) continue;
    // A matching negation wins over any positive match, in any order (match_hostname()).
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function matchHashedHost(hosts: string, lookupName: string): boolean {
  const [, , salt, hash] = hosts.split('|');
  if (salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(lookupName).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** `*` matches any run of characters (dots included), `?` exactly one; the whole name must match. */
export function matchWildcard(pattern: string, name: string): boolean {
  // Iterative glob with backtracking on the last `*`: linear enough, no regex built from file text.
  let p = 0;
  let n = 0;
  let starP = -1;
  let starN = 0;
  while (n < name.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starN = n;
    } else if (pc !== undefined && (pc === '?' || pc === name[n])) {
      p++;
      n++;
    } else if (starP >= 0) {
      p = starP + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Checks a host key the server presented against known_hosts. A revoked key is refused even when
 * another line lists it; a key listed for the host is accepted even when other lines for the host
 * hold other keys (rotation); a host with a different key of the same type is `changed`; anything
 * else is `unknown`.
 */
export function verifyHostKey(knownHosts: string | KnownHosts, host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const parsed = typeof knownHosts === 'string' ? parseKnownHosts(knownHosts) : knownHosts;
  const lookupName = hostLookupName(host, port);
  const presentedType = readKeyType(keyBlob);
  let accepted: number | undefined;
  let changed: number | undefined;
  for (const entry of parsed.entries) {
    if (entry.marker === 'cert-authority') continue;
    if (!matchHostField(entry.hosts, lookupName)) continue;
    const same = entry.key.equals(keyBlob);
    if (entry.marker === 'revoked') {
      if (same) return { ok: false, reason: 'revoked', line: entry.line };
      continue;
    }
    if (same) accepted ??= entry.line;
    else if (entry.keyType === presentedType) changed ??= entry.line;
  }
  if (accepted !== undefined) return { ok: true, line: accepted };
  if (changed !== undefined) return { ok: false, reason: 'changed', line: changed };
  return { ok: false, reason: 'unknown' };
}

/** Key types known_hosts holds for this host (revoked and CA lines excluded), in file order, unique. */
export function knownKeyTypes(knownHosts: string | KnownHosts, host: string, port: number): string[] {
  const parsed = typeof knownHosts === 'string' ? parseKnownHosts(knownHosts) : knownHosts;
  const lookupName = hostLookupName(host, port);
  const types: string[] = [];
  for (const entry of parsed.entries) {
    if (entry.marker !== undefined || !matchHostField(entry.hosts, lookupName)) continue;
    if (!types.includes(entry.keyType)) types.push(entry.keyType);
  }
  return types;
}

/** ssh2's supported host key algorithms, best first (its own default order). */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * Host key algorithms to offer, with the ones known_hosts has a key for first. Without this, a host
 * listed only by its RSA key would present ed25519 (our first choice) and be refused as unknown;
 * OpenSSH's client orders its offer the same way.
 */
export function orderHostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  const preferred: string[] = [];
  for (const type of knownTypes) {
    const algorithms = type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
    for (const algorithm of algorithms) {
      if (HOST_KEY_ALGORITHMS.includes(algorithm) && !preferred.includes(algorithm)) preferred.push(algorithm);
    }
  }
  return [...preferred, ...HOST_KEY_ALGORITHMS.filter((a) => !preferred.includes(a))];
}

/** The key type named inside an SSH public key blob (`string type` first), or undefined if malformed. */
export function readKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:…` as `ssh-keygen -l` prints it (unpadded base64). */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** `ssh-keyscan -t` type names for a key type. */
function keyscanType(keyType: string | undefined): string {
  if (keyType === 'ssh-ed25519') return 'ed25519';
  if (keyType?.startsWith('ecdsa-')) return 'ecdsa';
  if (keyType === 'ssh-rsa') return 'rsa';
  return 'ed25519';
}

/** Which node a verdict is about, for the message. */
export interface HostKeyContext {
  node: string;
  host: string;
  port: number;
  knownHostsPath: string;
  keyBlob: Buffer;
}

/**
 * A refusal as a coded error with advice: `ssh_host_key_unknown`, `ssh_host_key_changed` or
 * `ssh_host_key_revoked`. The presented key's type and SHA256 fingerprint are in the message so the
 * operator can compare it with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on the host.
 */
export function hostKeyError(verdict: Extract<HostKeyVerdict, { ok: false }>, ctx: HostKeyContext): VipbotError {
  const where = ctx.port === 22 ? ctx.host : `${ctx.host}:${ctx.port}`;
  const keyType = readKeyType(ctx.keyBlob) ?? 'unknown-type';
  const presented = `${keyType} ${fingerprintSha256(ctx.keyBlob)}`;
  const who = `SSH host key for ${ctx.node} (${where})`;
  switch (verdict.reason) {
    case 'changed':
      return new VipbotError(
        'ssh_host_key_changed',
        `${who} does not match ${ctx.knownHostsPath} line ${verdict.line ?? '?'} (presented ${presented})`,
        `if the host was rebuilt, update the file (ssh-keygen -R ${shellWord(hostLookupName(ctx.host, ctx.port))} -f ${ctx.knownHostsPath}, then add the new key); otherwise treat it as a possible attack`,
      );
    case 'revoked':
      return new VipbotError(
        'ssh_host_key_revoked',
        `${who} is marked @revoked in ${ctx.knownHostsPath} line ${verdict.line ?? '?'} (presented ${presented})`,
        'the host still uses a key you revoked; replace its host keys before the bot may connect',
      );
    case 'unknown': {
      const portFlag = ctx.port === 22 ? '' : `-p ${ctx.port} `;
      return new VipbotError(
        'ssh_host_key_unknown',
        `${who}, ${presented}, is not in ${ctx.knownHostsPath}`,
        `add it with: ssh-keyscan ${portFlag}-t ${keyscanType(keyType)} ${ctx.host} >> ${ctx.knownHostsPath} (check the fingerprint first)`,
      );
    }
  }
}

/** `[host]:port` contains brackets, which a shell would glob: quote it in advice text. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_.:@-]+$/.test(word) ? word : `'${word}'`;
}

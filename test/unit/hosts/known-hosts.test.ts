import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  fingerprintSha256,
  hostKeyError,
  hostLookupName,
  knownKeyTypes,
  matchHostField,
  matchWildcard,
  orderHostKeyAlgorithms,
  parseKnownHosts,
  readKeyType,
  verifyHostKey,
} from '../../../src/hosts/known-hosts.ts';

const fixtures = fileURLToPath(new URL('../../fixtures/hosts/', import.meta.url));
const read = (name: string) => readFileSync(`${fixtures}${name}`, 'utf8');
/** Key blobs from real `ssh-keygen` output (see test/fixtures/hosts/keys). */
const blob = (name: string) => Buffer.from(read(`keys/${name}.pub`).split(' ')[1] ?? '', 'base64');
const keys = {
  a: blob('node1-ed25519'),
  b: blob('node2-ed25519'),
  c: blob('node3-ecdsa'),
  d: blob('node4-rsa'),
};
const plain = read('known_hosts');
const hashed = read('known_hosts.hashed');

describe('parseKnownHosts', () => {
  it('keeps usable lines with their line numbers and reports the rest', () => {
    const parsed = parseKnownHosts(plain);
    expect(parsed.entries.map((e) => [e.line, e.marker ?? '', e.hosts, e.keyType])).toEqual([
      [3, '', '198.51.100.1', 'ssh-ed25519'],
      [4, '', '198.51.100.2,node2.lab', 'ssh-ed25519'],
      [5, '', '[198.51.100.3]:2222', 'ecdsa-sha2-nistp256'],
      [6, '', '198.51.100.4', 'ssh-rsa'],
      [7, '', '*.db.lab,!evil.db.lab', 'ssh-ed25519'],
      [8, '', '198.51.100.2?', 'ssh-ed25519'],
      [9, 'revoked', '198.51.100.5', 'ssh-ed25519'],
      [10, '', '198.51.100.5', 'ssh-ed25519'],
      [11, '', '198.51.100.5', 'ssh-ed25519'],
      [12, 'cert-authority', '*.lab', 'ecdsa-sha2-nistp256'],
      [13, '', 'NODE6.LAB', 'ssh-ed25519'],
      [14, '', '198.51.100.7', 'ssh-ed25519'],
      [15, '', '198.51.100.7', 'ssh-ed25519'],
    ]);
    expect(parsed.problems).toEqual([
      { line: 16, message: 'unknown key type line' },
      { line: 17, message: 'the key is not base64' },
    ]);
  });

  it.each([
    ['@bogus host ssh-ed25519 AAAA', 'unknown marker @bogus'],
    ['host ssh-ed25519', 'expected: [marker] hosts key-type base64-key [comment]'],
    // An rsa blob labelled ed25519: a damaged or hand-edited line.
    [`host ssh-ed25519 ${keys.d.toString('base64')}`, 'the key blob is not a ssh-ed25519 key'],
    [`|1|abc ssh-ed25519 ${keys.a.toString('base64')}`, 'hashed host is not |1|salt|hash'],
  ])('refuses %j', (line, message) => {
    expect(parseKnownHosts(line)).toEqual({ entries: [], problems: [{ line: 1, message }] });
  });

  it('accepts CRLF files and tabs', () => {
    const parsed = parseKnownHosts(`# c\r\n198.51.100.1\tssh-ed25519\t${keys.a.toString('base64')}\r\n`);
    expect(parsed.entries).toHaveLength(1);
    expect(parsed.entries[0]?.key.equals(keys.a)).toBe(true);
  });
});

describe('verifyHostKey over real ssh-keygen lines', () => {
  it.each([
    // [what, file, host, port, key, verdict]
    ['plain host, right key', 'plain', '198.51.100.1', 22, 'a', { ok: true, line: 3 }],
    ['plain host, other ed25519 key', 'plain', '198.51.100.1', 22, 'b', { ok: false, reason: 'changed', line: 3 }],
    ['plain host, key of a type not listed', 'plain', '198.51.100.1', 22, 'c', { ok: false, reason: 'unknown' }],
    ['second name in a list', 'plain', 'node2.lab', 22, 'b', { ok: true, line: 4 }],
    ['names are case-insensitive', 'plain', 'Node2.LAB', 22, 'b', { ok: true, line: 4 }],
    ['file upper case, lookup lower case', 'plain', 'node6.lab', 22, 'a', { ok: true, line: 13 }],
    ['host not in the file', 'plain', '198.51.100.99', 22, 'a', { ok: false, reason: 'unknown' }],
    ['[host]:port entry on its port', 'plain', '198.51.100.3', 2222, 'c', { ok: true, line: 5 }],
    ['[host]:port entry does not cover port 22', 'plain', '198.51.100.3', 22, 'c', { ok: false, reason: 'unknown' }],
    ['plain entry does not cover another port', 'plain', '198.51.100.1', 2222, 'a', { ok: false, reason: 'unknown' }],
    ['ssh-rsa key', 'plain', '198.51.100.4', 22, 'd', { ok: true, line: 6 }],
    ['wildcard *', 'plain', 'db7.db.lab', 22, 'a', { ok: true, line: 7 }],
    ['* spans dots', 'plain', 'a.b.db.lab', 22, 'a', { ok: true, line: 7 }],
    ['negated name beats the wildcard', 'plain', 'evil.db.lab', 22, 'a', { ok: false, reason: 'unknown' }],
    ['? matches one character', 'plain', '198.51.100.23', 22, 'b', { ok: true, line: 8 }],
    ['? does not match none', 'plain', '198.51.100.2', 22, 'a', { ok: false, reason: 'changed', line: 4 }],
    ['? does not match two', 'plain', '198.51.100.234', 22, 'b', { ok: false, reason: 'unknown' }],
    ['@revoked wins over a plain line with the same key', 'plain', '198.51.100.5', 22, 'a', { ok: false, reason: 'revoked', line: 9 }],
    ['a host with a revoked key may present its other key', 'plain', '198.51.100.5', 22, 'b', { ok: true, line: 11 }],
    ['@cert-authority lines are not host keys', 'plain', 'x.lab', 22, 'c', { ok: false, reason: 'unknown' }],
    ['two keys listed (rotation): the second is fine', 'plain', '198.51.100.7', 22, 'b', { ok: true, line: 15 }],
    ['hashed host', 'hashed', '198.51.100.1', 22, 'a', { ok: true, line: 2 }],
    ['hashed host, changed key', 'hashed', '198.51.100.1', 22, 'b', { ok: false, reason: 'changed', line: 2 }],
    ['hashed [host]:port', 'hashed', '198.51.100.3', 2222, 'c', { ok: true, line: 3 }],
    ['hashed [host]:port does not cover port 22', 'hashed', '198.51.100.3', 22, 'c', { ok: false, reason: 'unknown' }],
    ['hashed name', 'hashed', 'node2.lab', 22, 'b', { ok: true, line: 4 }],
    ['hashed name, other host', 'hashed', 'node3.lab', 22, 'b', { ok: false, reason: 'unknown' }],
    ['ssh-keygen -H leaves @revoked plain', 'hashed', '198.51.100.9', 22, 'd', { ok: false, reason: 'revoked', line: 5 }],
  ] as const)('%s', (_what, file, host, port, key, verdict) => {
    expect(verifyHostKey(file === 'plain' ? plain : hashed, host, port, keys[key])).toEqual(verdict);
  });

  it('takes a parsed file as well as text', () => {
    expect(verifyHostKey(parseKnownHosts(plain), '198.51.100.1', 22, keys.a)).toEqual({ ok: true, line: 3 });
  });

  it('an empty file knows nothing', () => {
    expect(verifyHostKey('', '198.51.100.1', 22, keys.a)).toEqual({ ok: false, reason: 'unknown' });
  });
});

describe('matching helpers', () => {
  it.each([
    ['*', 'anything', true],
    ['', '', true],
    ['', 'x', false],
    ['a*', 'abc', true],
    ['*c', 'abc', true],
    ['a*c', 'ac', true],
    ['a*c', 'abcbc', true],
    ['a*c', 'abcb', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*.*.lab', 'x.y.lab', true],
    ['[198.51.100.*]:2222', '[198.51.100.3]:2222', true],
    ['[198.51.100.*]:2222', '[198.51.100.3]:22', false],
  ])('matchWildcard(%j, %j) = %s', (pattern, name, expected) => {
    expect(matchWildcard(pattern, name)).toBe(expected);
  });

  it.each([
    ['a,b,c', 'b', true],
    ['!b,*', 'b', false],
    ['*,!b', 'b', false],
    ['*,!b', 'c', true],
    ['!b', 'c', false],
    [',,a', 'a', true],
  ])('matchHostField(%j, %j) = %s', (hosts, name, expected) => {
    expect(matchHostField(hosts, name)).toBe(expected);
  });

  it('looks up [host]:port only off port 22, lower-cased', () => {
    expect(hostLookupName('Node1', 22)).toBe('node1');
    expect(hostLookupName('Node1', 2222)).toBe('[node1]:2222');
  });
});

describe('key facts', () => {
  it.each([
    // Fingerprints as printed by `ssh-keygen -lf keys/<name>.pub`.
    ['a', 'ssh-ed25519', 'SHA256:5Q50HVn/yLn2HzkaRjlYdtFI4NSHMLyyGIGrQQ6UYaM'],
    ['b', 'ssh-ed25519', 'SHA256:OCUvnLSjaRz3LYt6nXivizQ3IBN83w8lZdV6eOA6d20'],
    ['c', 'ecdsa-sha2-nistp256', 'SHA256:M/oVyzoeLndg8XNjBLnUmED/4PZcTlkyO7Vu4xWDlj0'],
    ['d', 'ssh-rsa', 'SHA256:A0uLzl497p+QAsbHWLfgpSQs4XPxlMhfQZ1SiBYTRQ8'],
  ] as const)('key %s is %s %s', (key, type, fingerprint) => {
    expect(readKeyType(keys[key])).toBe(type);
    expect(fingerprintSha256(keys[key])).toBe(fingerprint);
  });

  it('readKeyType refuses garbage', () => {
    expect(readKeyType(Buffer.from([0, 0]))).toBeUndefined();
    expect(readKeyType(Buffer.from([0, 0, 0, 9, 65]))).toBeUndefined();
  });

  it('lists known key types and offers them first', () => {
    expect(knownKeyTypes(plain, '198.51.100.4', 22)).toEqual(['ssh-rsa']);
    expect(knownKeyTypes(plain, '198.51.100.5', 22)).toEqual(['ssh-ed25519']);
    expect(orderHostKeyAlgorithms(['ssh-rsa'])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521']);
    expect(orderHostKeyAlgorithms(['ecdsa-sha2-nistp256', 'ssh-ed25519'])).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(orderHostKeyAlgorithms([])).toHaveLength(7);
  });
});

describe('hostKeyError', () => {
  const ctx = { node: 'node2', host: '198.51.100.2', port: 22, knownHostsPath: '/etc/vipbot/known_hosts', keyBlob: keys.a };

  it('changed: names the line, the presented fingerprint and the fix', () => {
    const err = hostKeyError({ ok: false, reason: 'changed', line: 3 }, ctx);
    expect(err.code).toBe('ssh_host_key_changed');
    expect(err.toUserText()).toBe(
      'SSH host key for node2 (198.51.100.2) does not match /etc/vipbot/known_hosts line 3 (presented ssh-ed25519 SHA256:5Q50HVn/yLn2HzkaRjlYdtFI4NSHMLyyGIGrQQ6UYaM)'
        + ' — if the host was rebuilt, update the file (ssh-keygen -R 198.51.100.2 -f /etc/vipbot/known_hosts, then add the new key); otherwise treat it as a possible attack',
    );
  });

  it('unknown: says how to add it, with the port when not 22', () => {
    const err = hostKeyError({ ok: false, reason: 'unknown' }, { ...ctx, port: 2222, keyBlob: keys.c });
    expect(err.code).toBe('ssh_host_key_unknown');
    expect(err.toUserText()).toBe(
      'SSH host key for node2 (198.51.100.2:2222), ecdsa-sha2-nistp256 SHA256:M/oVyzoeLndg8XNjBLnUmED/4PZcTlkyO7Vu4xWDlj0, is not in /etc/vipbot/known_hosts'
        + ' — add it with: ssh-keyscan -p 2222 -t ecdsa 198.51.100.2 >> /etc/vipbot/known_hosts (check the fingerprint first)',
    );
  });

  it('changed on a non-22 port quotes [host]:port for ssh-keygen -R', () => {
    expect(hostKeyError({ ok: false, reason: 'changed', line: 5 }, { ...ctx, port: 2222 }).advice).toContain("ssh-keygen -R '[198.51.100.2]:2222'");
  });

  it('revoked', () => {
    const err = hostKeyError({ ok: false, reason: 'revoked', line: 9 }, ctx);
    expect(err.code).toBe('ssh_host_key_revoked');
    expect(err.message).toBe('SSH host key for node2 (198.51.100.2) is marked @revoked in /etc/vipbot/known_hosts line 9 (presented ssh-ed25519 SHA256:5Q50HVn/yLn2HzkaRjlYdtFI4NSHMLyyGIGrQQ6UYaM)');
  });
});

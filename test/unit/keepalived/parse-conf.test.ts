import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VipbotError } from '../../../src/errors.ts';
import { parseKeepalivedConf, printKeepalivedConf, splitScriptArgv, tokenizeKeepalivedConf } from '../../../src/keepalived/parse-conf.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keepalived/${name}`, import.meta.url), 'utf8');

/** Small deterministic PRNG (mulberry32) so the "random" edits are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('printKeepalivedConf ∘ parseKeepalivedConf', () => {
  it.each([
    'node1.conf', 'node2.conf', 'universal.conf', 'quirks.conf',
    'scripts-no-global-defs.conf', 'scripts-script-user.conf', 'scripts-security-groups.conf', 'scripts-security-default.conf',
  ])('round-trips %s byte for byte', (name) => {
    const text = fixture(name);
    expect(printKeepalivedConf(parseKeepalivedConf(text))).toBe(text);
  });

  it.each([
    ['CRLF line endings', fixture('node1.conf').replace(/\n/g, '\r\n')],
    ['no final newline', fixture('node1.conf').trimEnd()],
    ['tabs instead of spaces', fixture('node2.conf').replace(/^( {6})+/gm, (m) => '\t'.repeat(m.length / 6))],
    ['empty file', ''],
    ['only comments', '! a\n# b\n\n   ! c'],
    ['trailing spaces and a lone CR', 'global_defs {   \n  router_id x \r\n}\t\n'],
    ['brace lines with comments', 'vrrp_instance X # c1\n\n! c2\n   {   # c3\n  state MASTER\n  }  ! c4\n'],
    ['statement after a closing brace', 'a { b } c { d }\n'],
    ['include and parameters', 'include /etc/keepalived/*.conf\n$PRIO=100\n@node1 priority $PRIO\n'],
  ])('round-trips %s', (_label, text) => {
    expect(printKeepalivedConf(parseKeepalivedConf(text))).toBe(text);
  });

  it('round-trips after random-ish edits of whitespace, comments and line breaks', () => {
    const base = fixture('node1.conf').split('\n');
    const indents = ['', ' ', '\t', '      ', '\t  '];
    const comments = [' ! note', '# note', '  # "quoted" {not a brace}', '   ! }'];
    const pieces = [...indents, ...comments.map((c) => c.trimStart())];
    for (let seed = 1; seed <= 200; seed++) {
      const rand = prng(seed);
      const pick = <T,>(items: T[]) => items[Math.floor(rand() * items.length)]!;
      const lines = base.map((line) => {
        const r = rand();
        if (r < 0.15) return pick(indents) + line.trimStart();
        if (r < 0.3) return line + pick(comments);
        return line;
      });
      for (let k = 0; k < 5; k++) lines.splice(Math.floor(rand() * lines.length), 0, pick(pieces));
      const eol = rand() < 0.3 ? '\r\n' : '\n';
      const text = lines.join(eol);
      const conf = parseKeepalivedConf(text);
      expect(printKeepalivedConf(conf)).toBe(text);
      expect(conf.instances.map((i) => [i.name, i.priority])).toEqual([['VI_PRIMARY', 100], ['VI_STANDBY', 90]]);
    }
  });

  it('concatenated tokens are the input', () => {
    const text = fixture('quirks.conf');
    expect(tokenizeKeepalivedConf(text).map((t) => t.text).join('')).toBe(text);
  });
});

describe('typed views', () => {
  it('reads node1.conf as in the notes: VI_PRIMARY MASTER 100, VI_STANDBY BACKUP 90', () => {
    const conf = parseKeepalivedConf(fixture('node1.conf'));
    expect(conf.instances).toEqual([
      {
        name: 'VI_PRIMARY', state: 'MASTER', interface: 'eth0', virtualRouterId: 51, priority: 100, advertInt: 1, nopreempt: false,
        unicastSrcIp: '198.51.100.1', unicastPeers: ['198.51.100.2'], virtualIpaddresses: ['198.51.100.100'],
        trackScripts: [{ name: 'chk_primary' }], line: 25, endLine: 45, stateLine: 26, priorityLine: 29,
      },
      {
        name: 'VI_STANDBY', state: 'BACKUP', interface: 'eth0', virtualRouterId: 52, priority: 90, advertInt: 1, nopreempt: false,
        unicastSrcIp: '198.51.100.1', unicastPeers: ['198.51.100.2'], virtualIpaddresses: ['198.51.100.101'],
        trackScripts: [{ name: 'chk_standby' }], line: 47, endLine: 67, stateLine: 48, priorityLine: 51,
      },
    ]);
    expect(conf.scripts).toEqual([
      { name: 'chk_primary', script: '/etc/keepalived/primary_check.sh', argv: ['/etc/keepalived/primary_check.sh'], user: 'oracle', interval: 5, line: 12 },
      { name: 'chk_standby', script: '/etc/keepalived/standby_check.sh', argv: ['/etc/keepalived/standby_check.sh'], user: 'oracle', interval: 5, line: 19 },
    ]);
  });

  it('reads the old universal layout: one MASTER instance at 244 with one weighted role script', () => {
    const conf = parseKeepalivedConf(fixture('universal.conf'));
    expect(conf.instances).toEqual([
      {
        name: 'VI_1', state: 'MASTER', interface: 'eth0', virtualRouterId: 51, priority: 244, advertInt: 1, nopreempt: false,
        unicastPeers: [], virtualIpaddresses: ['198.51.100.100'], trackScripts: [{ name: 'chk_role' }], line: 14, endLine: 30, stateLine: 15, priorityLine: 18,
      },
    ]);
    expect(conf.scripts).toEqual([
      { name: 'chk_role', script: '/etc/keepalived/role_check.sh PRIMARY', argv: ['/etc/keepalived/role_check.sh', 'PRIMARY'], interval: 2, weight: 2, line: 8 },
    ]);
  });

  it('reads quirks the way keepalived 2.2.7 does', () => {
    const conf = parseKeepalivedConf(fixture('quirks.conf'));
    expect(conf.instances).toEqual([
      {
        name: 'VI_Q', state: 'BACKUP', interface: 'eth0', virtualRouterId: 61, nopreempt: true, unicastPeers: [],
        virtualIpaddresses: ['198.51.100.110', '198.51.100.111'], trackScripts: [{ name: 'chk primary' }, { name: 'chk_two', weight: 5 }],
        line: 16, endLine: 30, stateLine: 19,
      },
      // `preempt` after `nopreempt` wins; the empty unicast_peer block is no peer
      { name: 'VI_R', interface: 'eth0', virtualRouterId: 62, nopreempt: false, unicastPeers: [], virtualIpaddresses: [], trackScripts: [], line: 30, endLine: 37 },
    ]);
    expect(conf.scripts).toEqual([
      // "#" inside double quotes is not a comment; the quoted command is split again on whitespace
      { name: 'chk primary', script: '/opt/checks/role check.sh # not a comment', argv: ['/opt/checks/role', 'check.sh', '#', 'not', 'a', 'comment'], interval: 2, line: 9 },
      { name: 'chk_two', script: "/bin/echo a 'b c' d", argv: ['/bin/echo', 'a', 'b c', 'd'], user: 'nobody', group: 'nogroup', weight: -20, line: 12 },
    ]);
  });

  it.each([
    ['no state/priority (keepalived defaults apply later)', 'vrrp_instance A {\n  virtual_router_id 7\n}\n', { name: 'A', virtualRouterId: 7 }],
    ['last priority wins', 'vrrp_instance A {\n priority 10\n priority 20\n}\n', { name: 'A', priority: 20, priorityLine: 3 }],
    ['one-line blocks', 'vrrp_instance A { state BACKUP\n virtual_ipaddress { 10.0.0.1/24 dev eth0 }\n unicast_peer { 10.0.0.2 10.0.0.3 }\n}\n', { name: 'A', state: 'BACKUP', stateLine: 1, virtualIpaddresses: ['10.0.0.1'], unicastPeers: ['10.0.0.2'] }],
    ['braces glued to words', 'vrrp_instance A{\n virtual_ipaddress{\n  10.0.0.1}\n}\n', { name: 'A', virtualIpaddresses: ['10.0.0.1'], endLine: 4 }],
    ['comment glued to a value', 'vrrp_instance A {\n interface eth0#x\n unicast_src_ip 10.0.0.1!y\n}\n', { name: 'A', interface: 'eth0', unicastSrcIp: '10.0.0.1' }],
    ['IPv6 VIPs', 'vrrp_instance A {\n virtual_ipaddress {\n  2001:db8::10/64 dev eth0\n }\n}\n', { name: 'A', virtualIpaddresses: ['2001:db8::10'] }],
    ['track_script weights', 'vrrp_instance A {\n track_script {\n  a\n  b weight -30\n  c weight 5 reverse\n }\n}\n', { name: 'A', trackScripts: [{ name: 'a' }, { name: 'b', weight: -30 }, { name: 'c', weight: 5 }] }],
  ])('%s', (_label, text, expected) => {
    const [instance] = parseKeepalivedConf(text).instances;
    expect(instance).toMatchObject({ nopreempt: false, ...expected });
  });

  it.each([
    ['"/x.sh"', ['/x.sh']],
    ["\"/x.sh a 'b c' d\"", ['/x.sh', 'a', 'b c', 'd']],
    ['/x.sh\\ a', ['/x.sh', 'a']],
    ['\'/bin/echo x"y z"w\'', ['/bin/echo', 'xy zw']],
  ])('script %s runs as %j (only the first word counts)', (word, argv) => {
    const [script] = parseKeepalivedConf(`vrrp_script s {\n  script ${word} ignored extra words\n}\n`).scripts;
    expect(script!.argv).toEqual(argv);
  });

  it.each<[string, string, object, Array<[string, string | undefined, string | undefined]>]>([
    ['the lab and the notes', fixture('node1.conf'), { scriptUser: 'root', scriptSecurity: true },
      [['chk_primary', 'oracle', undefined], ['chk_standby', 'oracle', undefined]]],
    ['no global_defs', fixture('scripts-no-global-defs.conf'), { scriptSecurity: false }, [['chk_primary', undefined, undefined]]],
    ['global_defs without script settings', fixture('universal.conf'), { scriptSecurity: false }, [['chk_role', undefined, undefined]]],
    ['script_user without a group', fixture('scripts-script-user.conf'), { scriptUser: 'oracle', scriptSecurity: false },
      [['chk_primary', undefined, undefined], ['chk_listener', 'root', undefined]]],
    ['script_user and user with a group', fixture('scripts-security-groups.conf'),
      { scriptUser: 'oracle', scriptGroup: 'dba', scriptSecurity: true },
      [['chk_primary', undefined, undefined], ['chk_grid', 'grid', 'oinstall'], ['chk_root', 'root', undefined]]],
    ['enable_script_security alone', fixture('scripts-security-default.conf'), { scriptSecurity: true },
      [['chk_primary', undefined, undefined]]],
    ['two global_defs blocks add up, the last script_user wins',
      'global_defs {\n script_user a\n}\nglobal_defs {\n enable_script_security\n script_user b c # d\n}\n',
      { scriptUser: 'b', scriptGroup: 'c', scriptSecurity: true }, []],
    ['a brace on the next line, a comment on the line', 'global_defs\n{\n  enable_script_security ! on\n}\n', { scriptSecurity: true }, []],
    ['script_user inside vrrp_instance is not global', 'vrrp_instance A {\n script_user x\n}\n', { scriptSecurity: false }, []],
  ])('script settings: %s', (_what, text, globals, scripts) => {
    const conf = parseKeepalivedConf(text);
    expect(conf.globals).toEqual(globals);
    expect(conf.scripts.map((s) => [s.name, s.user, s.group])).toEqual(scripts);
  });

  it('splits script commands like keepalived', () => {
    expect(splitScriptArgv(`  /a  "b c"  'd "e"' f\\ g `)).toEqual(['/a', 'b c', 'd "e"', 'f g']);
    expect(splitScriptArgv('')).toEqual([]);
  });
});

describe('malformed input', () => {
  it.each([
    ['an unclosed block', 'global_defs {\n  router_id x\n\nvrrp_instance A {\n}\n', 'keepalived.conf line 1: block "global_defs" is never closed'],
    ['an extra }', 'vrrp_instance A {\n}\n}\n', "keepalived.conf line 3: '}' with no block open"],
    ['an unterminated double quote', 'vrrp_script s {\n  script "/x.sh\n}\n', 'keepalived.conf line 2: missing terminating "'],
    ['a comment inside single quotes', "vrrp_script s {\n  script '/x.sh # y'\n}\n", "keepalived.conf line 2: missing terminating '"],
    ['a { with no keyword', '{\n}\n', "keepalived.conf line 1: '{' with no keyword before it"],
    ['a { after a closed block', 'a {\n} {\n}\n', "keepalived.conf line 2: '{' with no keyword before it"],
    ['a non-numeric priority', 'vrrp_instance A {\n  priority high\n}\n', 'keepalived.conf line 2: priority needs an integer, got "high"'],
  ])('rejects %s with a coded error naming the line', (_label, text, message) => {
    let caught: unknown;
    try {
      parseKeepalivedConf(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(VipbotError);
    expect((caught as VipbotError).code).toBe('keepalived_conf_invalid');
    expect((caught as VipbotError).message).toContain(message);
    expect((caught as VipbotError).advice).toBeTruthy();
  });
});

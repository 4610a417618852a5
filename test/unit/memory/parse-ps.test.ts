import { describe, expect, it } from 'vitest';
import { isKeepalivedCommand, parsePs, parsePsAux, parsePsColumns, parsePsCpuTime } from '../../../src/memory/parse-ps.ts';
import { KIB, readMemoryFixture } from './fixtures.ts';

const LAB_ARGS = 'keepalived -n -D -l -f /tmp/vipbot-memfix/keepalived.conf -p /tmp/vipbot-memfix/ka.pid -r /tmp/vipbot-memfix/vrrp.pid -c /tmp/vipbot-memfix/check.pid';

/** One hour of the notes' crontab before their `egrep -v "/bin/sh|systemctl"` cleaned it. */
const NOTES_AUX_WITH_NOISE = [
  'USER        PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND',
  'root      23145  0.0  0.0 123032  1836 ?        Ss   Dec28   0:14 /usr/sbin/keepalived -D',
  'root      23146  0.0  0.1 125156  7312 ?        S    Dec28   0:12 /usr/sbin/keepalived -D',
  'root      23147  0.0  0.1 125156  6088 ?        S    Dec28   2:04 /usr/sbin/keepalived -D',
  "root      31012  0.0  0.0  12704  2968 ?        Ss   09:00   0:00 /bin/sh -c date >> ps_mem.log && ps aux | egrep '[k]eepalived|[V]SZ' >> ps_mem.log 2>&1",
  'root      31013  0.0  0.0  12704  2968 ?        Ss   09:00   0:00 /bin/sh -c systemctl status keepalived | egrep "Active|Memory" >> mem.log 2>&1',
  'root      31015  0.0  0.0 230148  9880 ?        S    09:00   0:00 systemctl status keepalived',
].join('\n');

describe('parsePsColumns (ps -o pid=,ppid=,rss=,vsz=,etimes=,args= -C keepalived)', () => {
  it.each([
    {
      name: 'keepalived 2.2.7 in the lab: parent and VRRP child',
      text: readMemoryFixture('ps-headerless-lab.txt'),
      expected: [
        { pid: 32746, ppid: 1, rss: 10160 * KIB, vsz: 29024 * KIB, elapsedSeconds: 11, command: LAB_ARGS },
        { pid: 32752, ppid: 32746, rss: 3400 * KIB, vsz: 29024 * KIB, elapsedSeconds: 11, command: LAB_ARGS },
      ],
    },
    {
      name: 'a hostile args column stays text, and non-keepalived lines are skipped',
      text: '  812     1  1836 123032  86400 /usr/sbin/keepalived -D --vrrp; rm -rf /\n  900     1  300  4000  10 /usr/bin/grep keepalived\n',
      expected: [{ pid: 812, ppid: 1, rss: 1836 * KIB, vsz: 123032 * KIB, elapsedSeconds: 86400, command: '/usr/sbin/keepalived -D --vrrp; rm -rf /' }],
    },
    { name: 'keepalived not running: empty output', text: '', expected: [] },
  ])('$name', ({ text, expected }) => {
    expect(parsePsColumns(text)).toEqual(expected);
  });

  it('takes other column lists (cputime, stat)', () => {
    const text = '23147 23145  6088 125156 01:02:03 S /usr/sbin/keepalived -D\n';
    expect(parsePsColumns(text, ['pid', 'ppid', 'rss', 'vsz', 'time', 'stat', 'args'])).toEqual([
      { pid: 23147, ppid: 23145, rss: 6088 * KIB, vsz: 125156 * KIB, cpuSeconds: 3723, stat: 'S', command: '/usr/sbin/keepalived -D' },
    ]);
  });

  it('refuses a keepalived line that does not fit the columns', () => {
    expect(() => parsePsColumns('x y z /usr/sbin/keepalived -D\n', ['pid', 'rss', 'vsz', 'args'])).toThrow(
      expect.objectContaining({ code: 'ps_unrecognised' }),
    );
  });
});

describe('parsePsAux', () => {
  it.each([
    {
      name: "the notes' ps aux with the cron shell and systemctl lines left in",
      text: NOTES_AUX_WITH_NOISE,
      expected: [
        { pid: 23145, rss: 1836 * KIB, vsz: 123032 * KIB, cpuSeconds: 14, stat: 'Ss', command: '/usr/sbin/keepalived -D' },
        { pid: 23146, rss: 7312 * KIB, vsz: 125156 * KIB, cpuSeconds: 12, stat: 'S', command: '/usr/sbin/keepalived -D' },
        { pid: 23147, rss: 6088 * KIB, vsz: 125156 * KIB, cpuSeconds: 124, stat: 'S', command: '/usr/sbin/keepalived -D' },
      ],
    },
    {
      name: 'keepalived 2.2.7 in the lab',
      text: readMemoryFixture('ps-aux-lab.txt'),
      expected: [
        { pid: 32746, rss: 10160 * KIB, vsz: 29024 * KIB, cpuSeconds: 0, stat: 'S', command: LAB_ARGS },
        { pid: 32752, rss: 3400 * KIB, vsz: 29024 * KIB, cpuSeconds: 0, stat: 'S', command: LAB_ARGS },
      ],
    },
    {
      name: 'START as a year and TIME over an hour (MMM:SS)',
      text: 'root      23147  0.0  0.1 125156  5876 ?        S     2024  10:55 /usr/sbin/keepalived -D',
      expected: [{ pid: 23147, rss: 5876 * KIB, vsz: 125156 * KIB, cpuSeconds: 655, stat: 'S', command: '/usr/sbin/keepalived -D' }],
    },
  ])('$name', ({ text, expected }) => {
    expect(parsePsAux(text)).toEqual(expected);
  });

  it('parsePs tells the two shapes apart by the header', () => {
    expect(parsePs(readMemoryFixture('ps-aux-lab.txt')).map((p) => p.pid)).toEqual([32746, 32752]);
    expect(parsePs(readMemoryFixture('ps-headerless-lab.txt')).map((p) => p.ppid)).toEqual([1, 32746]);
  });
});

describe('helpers', () => {
  it.each([
    ['/usr/sbin/keepalived -D', true],
    ['keepalived -n -D -l', true],
    ['/usr/sbin/keepalived_vrrp', true],
    ["/bin/sh -c date >> ps_mem.log && ps aux | egrep '[k]eepalived|[V]SZ'", false],
    ['systemctl status keepalived', false],
    ['egrep Active|Memory', false],
    ['vim /etc/keepalived/keepalived.conf', false],
  ])('isKeepalivedCommand(%j) = %s', (command, expected) => {
    expect(isKeepalivedCommand(command)).toBe(expected);
  });

  it.each([
    ['0:07', 7],
    ['10:55', 655],
    ['125:01', 7501],
    ['01:02:03', 3723],
    ['2-01:00:00', 176400],
    ['n/a', undefined],
  ])('parsePsCpuTime(%j) = %s', (text, expected) => {
    expect(parsePsCpuTime(text)).toBe(expected);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VipbotError } from '../../../src/errors.ts';
import { normaliseIpAddress, parseIpAddr } from '../../../src/keepalived/parse-ip-addr.ts';
import { parsePsAux, parsePsKeepalived } from '../../../src/keepalived/parse-ps.ts';
import { parseSystemctlShow, summariseService } from '../../../src/keepalived/parse-systemctl-show.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keepalived/${name}`, import.meta.url), 'utf8');

function errorOf(fn: () => unknown): VipbotError {
  try {
    fn();
  } catch (err) {
    if (err instanceof VipbotError) return err;
    throw err;
  }
  throw new Error('expected a VipbotError');
}

describe('parseSystemctlShow / summariseService', () => {
  it.each([
    ['systemctl-show-active.txt', { keepalived: 'active', activeState: 'active', subState: 'running', mainPid: 23145, memoryCurrent: 502726656, startedAt: 'Sat 2024-12-28 06:00:26 MSK', nRestarts: 0 }],
    ['systemctl-show-inactive.txt', { keepalived: 'inactive', activeState: 'inactive', subState: 'dead', nRestarts: 0 }],
    ['systemctl-show-failed.txt', { keepalived: 'inactive', activeState: 'failed', subState: 'failed', nRestarts: 5 }],
  ])('summarises %s', (name, expected) => {
    expect(summariseService(parseSystemctlShow(fixture(name)))).toEqual(expected);
  });

  it('keeps values that contain "=" whole', () => {
    const props = parseSystemctlShow(fixture('systemctl-show-active.txt'));
    expect(props.ExecReload).toBe('{ path=/bin/kill ; argv[]=/bin/kill -HUP $MAINPID ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }');
    expect(props.UID).toBe('[not set]');
  });

  it.each([
    ['activating', 'start', 'active'],
    ['reloading', 'reload', 'active'],
    ['deactivating', 'stop-sigterm', 'inactive'],
    ['maintenance', 'x', 'unknown'],
    ['', '', 'unknown'],
  ] as const)('ActiveState=%s counts as %s', (activeState, subState, keepalived) => {
    const summary = summariseService(parseSystemctlShow(`ActiveState=${activeState}\nSubState=${subState}\nMainPID=0\nMemoryCurrent=[not set]\r\n`));
    expect(summary.keepalived).toBe(keepalived);
    expect(summary.mainPid).toBeUndefined();
    expect(summary.memoryCurrent).toBeUndefined();
  });

  it('reads an empty output as unknown', () => {
    expect(summariseService(parseSystemctlShow(''))).toEqual({ keepalived: 'unknown' });
  });
});

describe('parsePsKeepalived', () => {
  it('reads the lab capture (keepalived 2.2.7, VRRP only)', () => {
    expect(parsePsKeepalived(fixture('ps-keepalived-lab.txt'))).toEqual([
      { pid: 8, ppid: 1, rssBytes: 10052 * 1024, vszBytes: 29024 * 1024, elapsedSeconds: 6, args: 'keepalived -n -l -D -P -f /tmp/kx/t1.conf -p /tmp/kx/k.pid -r /tmp/kx/v.pid' },
      { pid: 10, ppid: 8, rssBytes: 3364 * 1024, vszBytes: 29024 * 1024, elapsedSeconds: 5, args: 'keepalived -n -l -D -P -f /tmp/kx/t1.conf -p /tmp/kx/k.pid -r /tmp/kx/v.pid' },
    ]);
  });

  it('reads the RHEL host of the notes: parent plus VRRP and checker children', () => {
    expect(parsePsKeepalived(fixture('ps-keepalived-rhel.txt'))).toEqual([
      { pid: 23145, ppid: 1, rssBytes: 1688 * 1024, vszBytes: 123032 * 1024, elapsedSeconds: 962535, args: '/usr/sbin/keepalived -D' },
      { pid: 23146, ppid: 23145, rssBytes: 7084 * 1024, vszBytes: 125156 * 1024, elapsedSeconds: 962535, args: '/usr/sbin/keepalived -D' },
      { pid: 23147, ppid: 23145, rssBytes: 5876 * 1024, vszBytes: 125156 * 1024, elapsedSeconds: 962535, args: '/usr/sbin/keepalived -D' },
    ]);
  });

  it.each([['', []], ['\n', []]])('reads %j (no keepalived running) as no processes', (text, expected) => {
    expect(parsePsKeepalived(text)).toEqual(expected);
  });

  it('rejects a row with missing columns', () => {
    const err = errorOf(() => parsePsKeepalived('23145 1 1688 /usr/sbin/keepalived\n'));
    expect(err.code).toBe('ps_output_invalid');
    expect(err.message).toContain('line 1');
  });
});

describe('parsePsAux', () => {
  it('reads the notes\' `ps aux | egrep` sample', () => {
    expect(parsePsAux(fixture('ps-aux-notes.txt'))).toEqual([
      { user: 'root', pid: 23145, cpuPercent: 0, memPercent: 0, vszBytes: 123032 * 1024, rssBytes: 1836 * 1024, tty: '?', stat: 'Ss', start: 'Dec28', time: '0:14', args: '/usr/sbin/keepalived -D' },
      { user: 'root', pid: 23146, cpuPercent: 0, memPercent: 0.1, vszBytes: 125156 * 1024, rssBytes: 7312 * 1024, tty: '?', stat: 'S', start: 'Dec28', time: '0:12', args: '/usr/sbin/keepalived -D' },
      { user: 'root', pid: 23147, cpuPercent: 0, memPercent: 0.1, vszBytes: 125156 * 1024, rssBytes: 6088 * 1024, tty: '?', stat: 'S', start: 'Dec28', time: '2:04', args: '/usr/sbin/keepalived -D' },
    ]);
  });

  it('reads the lab capture', () => {
    expect(parsePsAux(fixture('ps-aux-lab.txt')).map((p) => [p.pid, p.rssBytes, p.cpuPercent, p.start])).toEqual([
      [8, 10052 * 1024, 0, '19:13'],
      [10, 3364 * 1024, 0, '19:13'],
    ]);
  });

  it('rejects a line that is not a ps row', () => {
    expect(errorOf(() => parsePsAux('Sun Dec 29 09:00:01 MSK 2024\n')).code).toBe('ps_output_invalid');
  });
});

describe('parseIpAddr', () => {
  it('reads a RHEL host holding the primary VIP as /32 and the standby VIP as /24 secondary with a label', () => {
    expect(parseIpAddr(fixture('ip-addr-rhel-node2.txt'))).toEqual([
      { ifindex: 1, ifname: 'lo', family: 'inet', address: '127.0.0.1', prefixLength: 8 },
      { ifindex: 1, ifname: 'lo', family: 'inet6', address: '::1', prefixLength: 128 },
      { ifindex: 2, ifname: 'ens192', family: 'inet', address: '198.51.100.2', prefixLength: 24 },
      { ifindex: 2, ifname: 'ens192', family: 'inet', address: '198.51.100.100', prefixLength: 32 },
      { ifindex: 2, ifname: 'ens192', family: 'inet', address: '198.51.100.101', prefixLength: 24, label: 'ens192:2' },
      { ifindex: 2, ifname: 'ens192', family: 'inet6', address: '2001:db8:0:51::2', prefixLength: 64 },
      { ifindex: 2, ifname: 'ens192', family: 'inet6', address: 'fe80::250:56ff:fe9a:1b2c', prefixLength: 64 },
      { ifindex: 3, ifname: 'ens224', family: 'inet', address: '192.0.2.12', prefixLength: 24 },
      { ifindex: 4, ifname: 'virbr0', family: 'inet', address: '192.168.122.1', prefixLength: 24 },
    ]);
  });

  it('reads the lab capture with keepalived holding a VIP', () => {
    expect(parseIpAddr(fixture('ip-addr-lab-vip.txt')).filter((a) => a.family === 'inet')).toEqual([
      { ifindex: 1, ifname: 'lo', family: 'inet', address: '127.0.0.1', prefixLength: 8 },
      { ifindex: 3, ifname: 'eth0', family: 'inet', address: '198.51.100.1', prefixLength: 24 },
      { ifindex: 3, ifname: 'eth0', family: 'inet', address: '198.51.100.100', prefixLength: 32 },
      { ifindex: 3, ifname: 'eth0', family: 'inet', address: '198.51.100.101', prefixLength: 24, label: 'eth0:1' },
    ]);
  });

  it('reads this machine\'s real output', () => {
    const addresses = parseIpAddr(fixture('ip-addr-here.txt'));
    expect(addresses[0]).toEqual({ ifindex: 1, ifname: 'lo', family: 'inet', address: '127.0.0.1', prefixLength: 8 });
    expect(addresses.every((a) => a.prefixLength > 0 && a.address.length > 0)).toBe(true);
  });

  it.each([
    ['point-to-point peer', '5: tun0    inet 10.8.0.1 peer 10.8.0.2/32 scope global tun0\\       valid_lft forever preferred_lft forever', { ifindex: 5, ifname: 'tun0', family: 'inet', address: '10.8.0.1', prefixLength: 32 }],
    ['a veth with @peer', '7: eth0@if8    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever preferred_lft forever', { ifindex: 7, ifname: 'eth0', family: 'inet', address: '10.0.0.5', prefixLength: 24 }],
    ['metric and dynamic', '2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global dynamic noprefixroute eth0\\       valid_lft 86000sec preferred_lft 86000sec', { ifindex: 2, ifname: 'eth0', family: 'inet', address: '10.0.0.5', prefixLength: 24 }],
    ['upper-case, uncompressed IPv6', '2: eth0    inet6 2001:DB8:0:0:0:0:0:100/128 scope global nodad \\       valid_lft forever preferred_lft forever', { ifindex: 2, ifname: 'eth0', family: 'inet6', address: '2001:db8::100', prefixLength: 128 }],
    ['IPv6 with proto', '2: eth0    inet6 fe80::1/64 scope link proto kernel_ll \\       valid_lft forever preferred_lft forever', { ifindex: 2, ifname: 'eth0', family: 'inet6', address: 'fe80::1', prefixLength: 64 }],
  ])('reads %s', (_label, line, expected) => {
    expect(parseIpAddr(`${line}\n`)).toEqual([expected]);
  });

  it('rejects lines that are not ip -o addr output', () => {
    const err = errorOf(() => parseIpAddr('1: lo    inet 127.0.0.1/8 scope host lo\nDevice "eth9" does not exist.\n'));
    expect(err.code).toBe('ip_output_invalid');
    expect(err.message).toContain('line 2');
  });

  it.each([
    ['198.51.100.100', '198.51.100.100'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['FE80::1%eth0', 'fe80::1'],
    ['::ffff:198.51.100.1', '::ffff:c633:6401'],
    ['::', '::'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
  ])('normalises %s to %s', (input, expected) => {
    expect(normaliseIpAddress(input)).toBe(expected);
  });
});

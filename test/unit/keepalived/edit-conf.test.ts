import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VipbotError } from '../../../src/errors.ts';
import { setInstancePriority, unifiedDiff } from '../../../src/keepalived/edit-conf.ts';
import { parseKeepalivedConf } from '../../../src/keepalived/parse-conf.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/keepalived/${name}`, import.meta.url), 'utf8');

/** Lines that differ between two texts of the same line count. */
function changedLines(a: string, b: string): number[] {
  const x = a.split('\n');
  const y = b.split('\n');
  expect(y.length).toBe(x.length);
  return x.flatMap((line, i) => (line === y[i] ? [] : [i + 1]));
}

function codeOf(fn: () => unknown): VipbotError {
  try {
    fn();
  } catch (err) {
    if (err instanceof VipbotError) return err;
    throw err;
  }
  throw new Error('expected a VipbotError');
}

describe('setInstancePriority', () => {
  it('changes exactly the priority line of the instance (fix (a) from the notes: node2 to 150)', () => {
    const before = fixture('node2.conf');
    const edit = setInstancePriority(before, 'VI_PRIMARY', 150);
    expect(edit.diff).toEqual({ line: 29, before: '      priority 90', after: '      priority 150' });
    expect(changedLines(before, edit.text)).toEqual([29]);
    expect(parseKeepalivedConf(edit.text).instances.map((i) => [i.name, i.priority])).toEqual([['VI_PRIMARY', 150], ['VI_STANDBY', 100]]);
  });

  it('keeps a trailing comment, its spacing and CRLF line endings', () => {
    const before = fixture('node1.conf').replace(/\n/g, '\r\n');
    const edit = setInstancePriority(before, 'VI_STANDBY', 140);
    expect(edit.diff).toEqual({
      line: 51,
      before: '      priority 90          # lower than node2: the standby VIP prefers node2',
      after: '      priority 140          # lower than node2: the standby VIP prefers node2',
    });
    expect(edit.text).toBe(before.replace('priority 90 ', 'priority 140 '));
  });

  it.each([
    ['after the state line, with the siblings\' indentation', 'vrrp_instance A {\n\tstate BACKUP # initial\n\tinterface eth0\n}\n', 3, '\tpriority 120', 'vrrp_instance A {\n\tstate BACKUP # initial\n\tpriority 120\n\tinterface eth0\n}\n'],
    ['as the first line when there is no state', 'x\nvrrp_instance A {\n   interface eth0\n}\n', 3, '   priority 120', 'x\nvrrp_instance A {\n   priority 120\n   interface eth0\n}\n'],
    ['in an empty block, indented like the rest of the file', 'global_defs {\n      router_id x\n}\nvrrp_instance A {\n}\n', 5, '      priority 120', 'global_defs {\n      router_id x\n}\nvrrp_instance A {\n      priority 120\n}\n'],
    ['after state when the block\'s { is on the next line', 'vrrp_instance A\n{\n  state BACKUP\n}\n', 4, '  priority 120', 'vrrp_instance A\n{\n  state BACKUP\n  priority 120\n}\n'],
    ['with CRLF when the file uses CRLF', 'vrrp_instance A {\r\n  state MASTER\r\n}\r\n', 3, '  priority 120', 'vrrp_instance A {\r\n  state MASTER\r\n  priority 120\r\n}\r\n'],
  ])('inserts a priority line %s', (_label, before, line, after, text) => {
    const edit = setInstancePriority(before, 'A', 120);
    expect(edit).toEqual({ text, diff: { line, before: null, after } });
    expect(parseKeepalivedConf(edit.text).instances[0]!.priority).toBe(120);
  });

  it('inserts into the quirks fixture after a state line with a glued comment', () => {
    const before = fixture('quirks.conf');
    const edit = setInstancePriority(before, 'VI_Q', 80);
    expect(edit.diff).toEqual({ line: 20, before: null, after: '    priority 80' });
    expect(edit.text.split('\n').slice(18, 21)).toEqual(['    state   BACKUP!no space before comment', '    priority 80', '    interface eth0#mid-word comment']);
    expect(parseKeepalivedConf(edit.text).instances.map((i) => i.priority)).toEqual([80, undefined]);
  });

  it('edits the last priority line when there are several (the one keepalived uses)', () => {
    const edit = setInstancePriority('vrrp_instance A {\n priority 10\n priority 20\n}\n', 'A', 30);
    expect(edit.diff).toEqual({ line: 3, before: ' priority 20', after: ' priority 30' });
  });

  it('edits a priority on a line shared with other statements, changing only that line', () => {
    const before = 'vrrp_instance A { state BACKUP\n  virtual_router_id 5 } vrrp_instance B { priority 7 }\n';
    const edit = setInstancePriority(before, 'B', 8);
    expect(edit).toEqual({ text: before.replace('priority 7', 'priority 8'), diff: { line: 2, before: '  virtual_router_id 5 } vrrp_instance B { priority 7 }', after: '  virtual_router_id 5 } vrrp_instance B { priority 8 }' } });
  });

  it('changes one line on random-ish variants of the notes\' config', () => {
    const base = fixture('node1.conf');
    for (let seed = 0; seed < 50; seed++) {
      const indent = [' ', '  ', '\t', '      ', '\t\t'][seed % 5]!;
      const text = base.replace(/^ {6}/gm, indent).replace(/priority 100\n/, seed % 2 ? 'priority 100 ! was 100\n' : 'priority 100\n');
      const edit = setInstancePriority(text, 'VI_PRIMARY', 1 + seed);
      expect(changedLines(text, edit.text)).toEqual([29]);
      expect(edit.diff.after.startsWith(`${indent}priority ${1 + seed}`)).toBe(true);
    }
  });

  it('returns the text unchanged when the priority is already set', () => {
    const text = fixture('node1.conf');
    expect(setInstancePriority(text, 'VI_PRIMARY', 100)).toEqual({ text, diff: { line: 29, before: '      priority 100', after: '      priority 100' } });
  });

  it.each([0, 255, 300, -5, 1.5, Number.NaN])('refuses priority %s', (priority) => {
    const err = codeOf(() => setInstancePriority(fixture('node1.conf'), 'VI_PRIMARY', priority));
    expect(err.code).toBe('keepalived_priority_invalid');
    expect(err.advice).toContain('255 is reserved for the address owner');
  });

  it('names the instances that exist when asked for an unknown one', () => {
    const err = codeOf(() => setInstancePriority(fixture('node1.conf'), 'VI_PRIMRY', 150));
    expect({ code: err.code, message: err.message, advice: err.advice }).toEqual({
      code: 'keepalived_instance_unknown',
      message: 'keepalived.conf has no vrrp_instance VI_PRIMRY',
      advice: 'instances in the file: VI_PRIMARY, VI_STANDBY; fix the instance name in vipbot.yaml',
    });
  });

  it('refuses a file that defines the instance twice', () => {
    const err = codeOf(() => setInstancePriority('vrrp_instance A {\n}\nvrrp_instance A {\n}\n', 'A', 10));
    expect(err.code).toBe('keepalived_conf_invalid');
    expect(err.message).toBe('keepalived.conf line 3: vrrp_instance A is defined again (first on line 1)');
  });

  it('refuses to insert into a one-line block', () => {
    expect(codeOf(() => setInstancePriority('vrrp_instance A { state BACKUP }\n', 'A', 10)).code).toBe('keepalived_conf_unsupported');
  });
});

describe('unifiedDiff', () => {
  it('shows a one-line priority change with three lines of context', () => {
    const before = fixture('node2.conf');
    const { text } = setInstancePriority(before, 'VI_PRIMARY', 150);
    expect(unifiedDiff(before, text, '/etc/keepalived/keepalived.conf')).toBe(
      [
        '--- /etc/keepalived/keepalived.conf',
        '+++ /etc/keepalived/keepalived.conf',
        '@@ -26,7 +26,7 @@',
        '       state BACKUP',
        '       interface eth0',
        '       virtual_router_id 51',
        '-      priority 90',
        '+      priority 150',
        '       advert_int 1',
        '       authentication {',
        '             auth_type PASS',
        '',
      ].join('\n'),
    );
  });

  it.each([
    ['equal texts', 'a\nb\n', 'a\nb\n', ''],
    ['an insertion at the top', 'b\n', 'a\nb\n', '--- f\n+++ f\n@@ -1 +1,2 @@\n+a\n b\n'],
    ['a deletion to empty', 'a\n', '', '--- f\n+++ f\n@@ -1 +0,0 @@\n-a\n'],
    ['a creation from empty', '', 'a\n', '--- f\n+++ f\n@@ -0,0 +1 @@\n+a\n'],
    ['a missing final newline', 'a\nb', 'a\nc', '--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n'],
    ['CRLF shown without the CR', 'a\r\nb\r\n', 'a\r\nc\r\n', '--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n'],
  ])('handles %s', (_label, before, after, expected) => {
    expect(unifiedDiff(before, after, 'f')).toBe(expected);
  });

  it('splits distant changes into separate hunks and merges close ones', () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join('\n') + '\n';
    const after = before.replace('l2\n', 'L2\n').replace('l5\n', 'L5\n').replace('l18\n', 'L18\n');
    expect(unifiedDiff(before, after, 'f')).toBe(
      '--- f\n+++ f\n@@ -1,8 +1,8 @@\n l1\n-l2\n+L2\n l3\n l4\n-l5\n+L5\n l6\n l7\n l8\n@@ -15,6 +15,6 @@\n l15\n l16\n l17\n-l18\n+L18\n l19\n l20\n',
    );
  });
});

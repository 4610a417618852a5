/**
 * `/vip memory [window] [cluster|node]`: the window grammar, the arguments (either order, defaults,
 * refusals that say what would work) and the job it queues.
 */
import { describe, expect, it } from 'vitest';
import { memoryCommand } from '../../../commands/memory.ts';
import { commands } from '../../../commands/index.ts';
import { parseConfigText, type VipbotConfig } from '../../../src/config/config.ts';
import { VipbotError } from '../../../src/errors.ts';
import { looksLikeWindow, parseMemoryWindow, WINDOW_PATTERN } from '../../../src/memory/memory-window.ts';

const H = 3_600_000;
const D = 24 * H;

const CONFIG = parseConfigText(`
memory: { retention: 35d, sampleEvery: 1h }
clusters:
  - name: orcl
    vips: [{ name: primary, instance: VI_PRIMARY, address: 198.51.100.100 }]
    nodes: [{ name: node1, host: 198.51.100.1 }, { name: node2, host: 198.51.100.2 }]
  - name: orcl2
    vips: [{ name: primary, instance: VI_PRIMARY, address: 198.51.100.102 }]
    nodes: [{ name: node3, host: 198.51.100.3 }, { name: node4, host: 198.51.100.4 }]
`);

function refusal(fn: () => unknown): VipbotError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(VipbotError);
    return err as VipbotError;
  }
  throw new Error('expected a refusal');
}

describe('memory window grammar', () => {
  it.each<[string, number]>([
    ['1h', H],
    ['24h', 24 * H],
    ['7d', 7 * D],
    ['2w', 14 * D],
    ['30d', 30 * D],
    ['35d', 35 * D],
    ['5w', 35 * D],
    ['840h', 35 * D],
  ])('%s is %d ms', (text, ms) => {
    expect(parseMemoryWindow(text, 35 * D)).toEqual({ label: text, ms });
  });

  it.each([
    ['0h', 'not a window'],
    ['07d', 'not a window'],
    ['7', 'not a window'],
    ['7days', 'not a window'],
    ['1.5d', 'not a window'],
    ['7D', 'not a window'],
    ['30m', 'not a window'],
    ['1000h', 'not a window'],
    ['-7d', 'not a window'],
    ['36d', 'longer than the 5w of samples kept'],
    ['6w', 'longer than the 5w of samples kept'],
    ['999d', 'longer than the 5w of samples kept'],
  ])('refuses %s (%s) and says what would work', (text, why) => {
    const err = refusal(() => parseMemoryWindow(text, 35 * D));
    expect(err.code).toBe('bad_window');
    expect(err.message).toContain(why);
    expect(err.advice).toContain('`24h`, `7d`, `2w`, `30d`');
  });

  it('suggests only windows within a short retention', () => {
    expect(refusal(() => parseMemoryWindow('30d', 10 * D)).advice).toMatch(/^Try `24h`, `7d` \(a number and h, d or w, up to 10d/);
  });

  it('a word starting with a digit is meant as a window', () => {
    expect(looksLikeWindow('7d')).toBe(true);
    expect(looksLikeWindow('7days')).toBe(true);
    expect(looksLikeWindow('node1')).toBe(false);
    expect(WINDOW_PATTERN.test('999w')).toBe(true);
  });
});

describe('/vip memory arguments', () => {
  const parse = (tokens: string[], config: VipbotConfig = CONFIG) => memoryCommand.parseArgs(tokens, config);

  it.each<[string[], string, unknown]>([
    [[], '7d', { kind: 'all' }],
    [['24h'], '24h', { kind: 'all' }],
    [['orcl2'], '7d', { kind: 'cluster', name: 'orcl2' }],
    [['30d', 'orcl'], '30d', { kind: 'cluster', name: 'orcl' }],
    [['2w', 'node3'], '2w', { kind: 'node', name: 'node3', cluster: 'orcl2' }],
    [['node1', '1h'], '1h', { kind: 'node', name: 'node1', cluster: 'orcl' }],
  ])('%j → window %s, target %j', (tokens, label, target) => {
    const args = parse(tokens);
    expect(args.window.label).toBe(label);
    expect(args.target).toEqual(target);
  });

  it.each<[string[], string, RegExp]>([
    [['7d', 'node1', 'node2'], 'bad_arguments', /at most a window and one cluster or node/],
    [['7d', '24h'], 'bad_arguments', /one window/],
    [['node1', 'node2'], 'bad_arguments', /one cluster or node/],
    [['node9'], 'unknown_target', /node9/],
    [['7days'], 'bad_window', /not a window/],
    [['90d', 'orcl'], 'bad_window', /longer than/],
  ])('refuses %j', (tokens, code, message) => {
    const err = refusal(() => parse(tokens));
    expect(err.code).toBe(code);
    expect(err.toUserText()).toMatch(message);
  });

  it('an unknown name lists the known ones', () => {
    expect(refusal(() => parse(['node9'])).advice).toBe('Known clusters: orcl, orcl2; nodes: node1, node2, node3, node4.');
  });

  it('queues memory-report with the window as typed and the target, for viewers', () => {
    expect(memoryCommand.access).toBe('viewers');
    const outcome = memoryCommand.handle(parse(['2w', 'node3']), { userId: 'U1', channelId: 'C1' }, CONFIG);
    expect(outcome).toEqual({
      kind: 'job',
      job: { name: 'memory-report', data: { window: { label: '2w', ms: 14 * D }, target: { kind: 'node', name: 'node3', cluster: 'orcl2' } } },
      ack: expect.stringContaining('node3 (cluster orcl2) over the last 2w'),
    });
  });

  it('is registered and shown by /vip help', () => {
    expect(commands.map((c) => c.name)).toContain('memory');
    const help = commands.find((c) => c.name === 'help')!.handle(undefined, { userId: 'U1', channelId: 'C1' }, CONFIG);
    expect(help.kind === 'reply' && help.text).toContain('/vip memory [window] [cluster|node]');
  });
});

import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { AccessControl } from '../../../src/access/access-control.ts';
import { CommandDispatcher } from '../../../src/commands/dispatch.ts';
import { tokeniseCommandText } from '../../../src/commands/tokenise.ts';
import { parseConfigText, type VipbotConfig } from '../../../src/config/config.ts';
import { ReplyTarget } from '../../../src/jobs/reply-target.ts';
import { silentLogger } from '../../../src/logger.ts';
import { Metrics } from '../../../src/metrics.ts';
import { FakeDirectory, RecordingQueue } from '../../support/fakes.ts';

const CONFIG = parseConfigText(`
access:
  viewers: [U0VIEW1, S0VIEWERS]
  operators: [U0ONCALL1]
  channels: [C0VIPOPS]
clusters:
  - name: orcl
    vips: [{ name: primary, instance: VI_PRIMARY, address: 198.51.100.100 }]
    nodes: [{ name: node1, host: 198.51.100.1 }, { name: node2, host: 198.51.100.2 }]
  - name: dwh
    vips: [{ name: primary, instance: VI_PRIMARY, address: 198.51.100.102 }]
    nodes: [{ name: dwh1, host: 198.51.100.3 }, { name: dwh2, host: 198.51.100.4 }]
`);

function setup(config: VipbotConfig = CONFIG) {
  const queue = new RecordingQueue();
  const directory = new FakeDirectory({ S0VIEWERS: ['U0GROUPIE'] });
  const dispatcher = new CommandDispatcher({ config, commands, access: new AccessControl(config.access, directory), queue, logger: silentLogger() });
  const run = (text: string, userId = 'U0VIEW1', channelId = 'C0VIPOPS') => dispatcher.dispatch({ text, userId, channelId, responseUrl: 'https://hooks.slack.invalid/x' });
  return { queue, directory, run };
}

describe('tokeniseCommandText', () => {
  it.each([
    ['status', ['status']],
    ['  status   node2 ', ['status', 'node2']],
    ['memory 7d orcl', ['memory', '7d', 'orcl']],
    ['', []],
  ])('%j → %j', (text, tokens) => {
    expect(tokeniseCommandText(text)).toEqual(tokens);
  });

  it.each(['status node1;reboot', 'status $(id)', 'status `id`', 'status node1|cat', "status 'node1'", 'status node1&&x', 'status ../etc', 'status <@U123>', 'status nod\u00e91', 'status -rf'])(
    'refuses %j before anything runs',
    (text) => {
      expect(() => tokeniseCommandText(text)).toThrow(/not a valid name/);
    },
  );
});

describe('CommandDispatcher', () => {
  it('queues a status job for a known node with the reply target', async () => {
    const { queue, run } = setup();
    const result = await run('status node2');
    expect(result).toMatchObject({ outcome: 'queued', command: 'status', jobId: '1' });
    expect(result.text).toMatch(/node2 \(cluster orcl\)/);
    expect(queue.jobs).toEqual([{ name: 'status', data: { target: { kind: 'node', name: 'node2', cluster: 'orcl' }, reply: { channel: 'C0VIPOPS', userId: 'U0VIEW1', responseUrl: 'https://hooks.slack.invalid/x' } } }]);
  });

  it('status without arguments covers every cluster', async () => {
    const { queue, run } = setup();
    await run('status');
    expect(queue.jobs[0]?.data.target).toEqual({ kind: 'all' });
  });

  it('unknown names are refused with the known ones, nothing queued', async () => {
    const { queue, run } = setup();
    const result = await run('status node9');
    expect(result.outcome).toBe('refused');
    expect(result.text).toContain('Known clusters: orcl, dwh; nodes: node1, node2, dwh1, dwh2');
    expect(queue.jobs).toEqual([]);
  });

  it('shell metacharacters are refused before anything runs', async () => {
    const { queue, run } = setup();
    const result = await run('status node1;reboot');
    expect(result).toMatchObject({ outcome: 'refused', errorCode: 'bad_arguments' });
    expect(queue.jobs).toEqual([]);
  });

  it('unknown command lists the commands', async () => {
    const { run } = setup();
    const result = await run('reboot node1');
    expect(result.errorCode).toBe('unknown_command');
    expect(result.text).toMatch(/`help`, `status`/);
  });

  it('help is for anyone and names clusters and nodes', async () => {
    const { run, queue } = setup();
    const result = await run('help', 'U0STRANGER');
    expect(result.outcome).toBe('replied');
    expect(result.text).toContain('/vip status [cluster|node]');
    expect(result.text).toContain('nodes: node1, node2, dwh1, dwh2');
    expect(queue.jobs).toEqual([]);
  });

  it('empty text shows help', async () => {
    const { run } = setup();
    expect((await run('')).command).toBe('help');
  });

  it('viewers only: a stranger is refused, a group member is let in (group looked up once, cached)', async () => {
    const { run, directory } = setup();
    expect((await run('status', 'U0STRANGER')).errorCode).toBe('not_allowed');
    expect((await run('status', 'U0GROUPIE')).outcome).toBe('queued');
    expect((await run('status', 'U0GROUPIE')).outcome).toBe('queued');
    expect(directory.lookups).toEqual(['S0VIEWERS']);
  });

  it('operators may read even when not listed as viewers', async () => {
    const { run } = setup();
    expect((await run('status', 'U0ONCALL1')).outcome).toBe('queued');
  });

  it('commands outside the allowed channels are refused with the channels that work', async () => {
    const { run, queue } = setup();
    const result = await run('status', 'U0VIEW1', 'C0RANDOM');
    expect(result.errorCode).toBe('channel_not_allowed');
    expect(result.text).toContain('<#C0VIPOPS>');
    expect(queue.jobs).toEqual([]);
  });
});

describe('CommandDispatcher hardening (issue 8)', () => {
  it('1000 junk command names leave vipbot_commands_total with only registered names plus `unknown`', async () => {
    const metrics = new Metrics({ defaults: false });
    const access = new AccessControl(CONFIG.access, new FakeDirectory());
    const queue = new RecordingQueue();
    const dispatcher = new CommandDispatcher({ config: CONFIG, commands, access, queue, logger: silentLogger(), metrics });
    for (let i = 0; i < 1000; i++) await dispatcher.dispatch({ text: `junk${i} node1`, userId: 'U0VIEW1', channelId: 'C0VIPOPS' });
    await dispatcher.dispatch({ text: 'status', userId: 'U0VIEW1', channelId: 'C0VIPOPS' });
    await dispatcher.dispatch({ text: `status ${'x'.repeat(5000)}`, userId: 'U0VIEW1', channelId: 'C0VIPOPS' });
    const { values } = await metrics.commands.get();
    expect(values.map((v) => ({ labels: v.labels, value: v.value }))).toEqual([
      { labels: { command: 'unknown', outcome: 'refused' }, value: 1001 },
      { labels: { command: 'status', outcome: 'queued' }, value: 1 },
    ]);
  });

  it('a long text is answered at once with what would work, before any splitting', async () => {
    const { queue, run } = setup();
    const started = performance.now();
    const result = await run(`status ${'node1 '.repeat(650_000)}`);
    expect(performance.now() - started).toBeLessThan(50);
    expect(result).toEqual({
      command: 'unknown',
      outcome: 'refused',
      errorCode: 'bad_arguments',
      text:
        ':warning: That command text is 3,900,007 characters long; `/vip` takes at most 1000. — ' +
        'Commands are a name and a few words, e.g. `/vip status node1` — try `/vip help`.',
    });
    expect(queue.jobs).toEqual([]);
  });

  it('a reply target the worker would reject is refused here, logged, and nothing queued', async () => {
    const queue = new RecordingQueue();
    const logged: unknown[] = [];
    const logger = silentLogger();
    logger.warn = ((obj: unknown) => void logged.push(obj)) as typeof logger.warn;
    const access = new AccessControl({ ...CONFIG.access, channels: [] }, new FakeDirectory());
    const dispatcher = new CommandDispatcher({ config: CONFIG, commands, access, queue, logger });
    const result = await dispatcher.dispatch({ text: 'status', userId: 'U0VIEW1', channelId: 'X0NOTACHANNEL', responseUrl: 'not a url' });
    expect(result).toEqual({
      command: 'status',
      outcome: 'refused',
      errorCode: 'bad_reply_target',
      text:
        ':warning: vipbot could not queue this: it would have nowhere valid to post the result (bad `channel`, `responseUrl`). — ' +
        'Run the command from a Slack channel or DM (channel C…/G…/D…, user U…/W…, a response URL); ' +
        'if it keeps happening, check what sits between Slack and vipbot.',
    });
    expect(queue.jobs).toEqual([]);
    expect(logged).toEqual([{ command: 'status', fields: ['channel', 'responseUrl'], user: 'U0VIEW1', channel: 'X0NOTACHANNEL' }]);
  });

  it('what the dispatcher queues always passes the worker reply-target schema', async () => {
    const { queue, run } = setup();
    await run('status node1');
    expect(ReplyTarget.safeParse(queue.jobs[0]?.data.reply).success).toBe(true);
  });
});

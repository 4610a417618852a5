/**
 * The Slack app manifests ask for exactly the scopes the code needs: every Web API method the code calls
 * is covered by a bot scope, every event the code listens to is subscribed, and no scope is asked for
 * that nothing uses (Slack reviewers and security teams read the scope list).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const root = join(import.meta.dirname, '..', '..', '..');

/** Web API method → the bot scopes that allow it (api.slack.com/methods/<method>). `[]`: needs none. */
const METHOD_SCOPES: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.update': ['chat:write'],
  'reactions.add': ['reactions:write'],
  // uploadV2 calls files.getUploadURLExternal and files.completeUploadExternal.
  'files.uploadV2': ['files:write'],
  'usergroups.users.list': ['usergroups:read'],
  'conversations.info': ['channels:read', 'groups:read'],
  'auth.test': [],
};

/** Events API event → the bot scope it needs. */
const EVENT_SCOPES: Record<string, string> = {
  reaction_added: 'reactions:read',
  reaction_removed: 'reactions:read',
};

const Manifest = z.object({
  features: z.object({
    slash_commands: z.array(z.object({ command: z.string(), url: z.string().optional() })),
  }),
  oauth_config: z.object({ scopes: z.object({ bot: z.array(z.string()) }) }),
  settings: z.object({
    event_subscriptions: z.object({ request_url: z.string().optional(), bot_events: z.array(z.string()) }),
    interactivity: z.object({ is_enabled: z.boolean(), request_url: z.string().optional() }),
    socket_mode_enabled: z.boolean(),
  }),
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const code = ['src', 'commands', 'jobs'].flatMap((d) => sourceFiles(join(root, d))).map((f) => readFileSync(f, 'utf8')).join('\n');

/** `client.chat.postMessage(`, `slack.conversations.info(` … as written in the sources (a WebClient is `client` or `slack`). */
function methodsCalled(): string[] {
  const found = new Set<string>();
  for (const m of code.matchAll(/\b(?:client|slack)\.((?:[a-z]+\.)+[A-Za-z0-9]+)\(/g)) found.add(m[1]!);
  return [...found].sort();
}

function eventsHandled(): string[] {
  return [...new Set([...code.matchAll(/\bapp\.event\(\s*'([a-z_]+)'/g)].map((m) => m[1]!))].sort();
}

const manifests = {
  http: 'slack-app-manifest.yml',
  socket: 'deploy/slack/slack-app-manifest.socket-mode.yml',
};

describe.each(Object.entries(manifests))('Slack app manifest (%s): %s', (mode, file) => {
  const manifest = Manifest.parse(parse(readFileSync(join(root, file), 'utf8')));
  const scopes = manifest.oauth_config.scopes.bot;

  it('the code calls Web API methods this test knows the scopes of', () => {
    expect(methodsCalled().length).toBeGreaterThan(3);
    expect(methodsCalled().filter((m) => !(m in METHOD_SCOPES))).toEqual([]);
  });

  it('covers every method the code calls with a bot scope', () => {
    const uncovered = methodsCalled().filter((m) => {
      const needs = METHOD_SCOPES[m] ?? ['(unknown)'];
      return needs.length > 0 && !needs.some((s) => scopes.includes(s));
    });
    expect(uncovered).toEqual([]);
  });

  it('subscribes to every event the code handles, and to reaction_removed', () => {
    const events = manifest.settings.event_subscriptions.bot_events;
    expect(eventsHandled().filter((e) => !events.includes(e))).toEqual([]);
    expect(events).toEqual(expect.arrayContaining(['reaction_added', 'reaction_removed']));
  });

  it('asks for no scope that nothing uses', () => {
    const used = new Set<string>(['commands']);
    for (const m of methodsCalled()) for (const s of METHOD_SCOPES[m] ?? []) if (scopes.includes(s)) used.add(s);
    for (const e of manifest.settings.event_subscriptions.bot_events) used.add(EVENT_SCOPES[e] ?? `(event ${e})`);
    expect(scopes.filter((s) => !used.has(s))).toEqual([]);
    expect([...used].filter((s) => !scopes.includes(s))).toEqual([]);
  });

  it('has the /vip command, interactivity and the request URLs of its mode', () => {
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/vip']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(mode === 'socket');
    const urls = [manifest.features.slash_commands[0]?.url, manifest.settings.event_subscriptions.request_url, manifest.settings.interactivity.request_url];
    if (mode === 'http') for (const url of urls) expect(url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
    else expect(urls).toEqual([undefined, undefined, undefined]);
  });
});

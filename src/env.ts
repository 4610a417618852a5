import { z } from 'zod';

/** Process environment (SPEC §2), validated once at start. */
export const Env = z.object({
  VIPBOT_CONFIG: z.string().min(1).default('./vipbot.yaml'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'use a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
  /** Redis Sentinel instead of REDIS_URL: `host:port,host:port,…` of the sentinels, and the master's name. */
  REDIS_SENTINELS: z.string().regex(/^[A-Za-z0-9.:[\]-]+:\d{1,5}(,[A-Za-z0-9.:[\]-]+:\d{1,5})*$/, 'use host:port of each sentinel, comma-separated (198.51.100.5:26379,198.51.100.6:26379)').optional(),
  REDIS_SENTINEL_NAME: z.string().regex(/^[A-Za-z0-9._-]+$/, 'use the master name the sentinels monitor (sentinel monitor <name> …)').optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  SLACK_BOT_TOKEN: z.string().regex(/^xox[bp]-/, 'use the bot token (xoxb-…)').optional(),
  SLACK_SIGNING_SECRET: z.string().min(8, 'use the app\'s signing secret from Basic Information').optional(),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-/, 'use an app-level token (xapp-…) with connections:write').optional(),
  SLACK_API_URL: z.url({ message: 'use an http(s) URL ending in /api/' }).optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  VIPBOT_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]+$/).default('vipbot'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type Env = z.infer<typeof Env>;

export interface EnvProblem { setting: string; message: string }

/** Parses the environment; returns every problem at once rather than the first. */
export function parseEnv(raw: NodeJS.ProcessEnv, needs: { slack: boolean }): { env?: Env; problems: EnvProblem[] } {
  const result = Env.safeParse(raw);
  const problems: EnvProblem[] = result.success
    ? []
    : result.error.issues.map((i) => ({ setting: String(i.path[0] ?? '?'), message: i.message }));
  if (raw.REDIS_SENTINELS && !raw.REDIS_SENTINEL_NAME) problems.push({ setting: 'REDIS_SENTINEL_NAME', message: 'required with REDIS_SENTINELS: the master name the sentinels monitor' });
  if (raw.REDIS_SENTINEL_NAME && !raw.REDIS_SENTINELS) problems.push({ setting: 'REDIS_SENTINELS', message: 'required with REDIS_SENTINEL_NAME: host:port of each sentinel, comma-separated' });
  if (needs.slack) {
    if (!raw.SLACK_BOT_TOKEN) problems.push({ setting: 'SLACK_BOT_TOKEN', message: 'required: the bot token (xoxb-…) from OAuth & Permissions' });
    if (!raw.SLACK_APP_TOKEN && !raw.SLACK_SIGNING_SECRET) {
      problems.push({ setting: 'SLACK_SIGNING_SECRET', message: 'required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)' });
    }
  }
  return result.success ? { env: result.data, problems } : { problems };
}

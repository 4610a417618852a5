import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths pino blanks out wherever they appear: tokens, secrets, keys. */
const REDACT = [
  'token', '*.token', 'botToken', '*.botToken', 'appToken', '*.appToken',
  'signingSecret', '*.signingSecret', 'privateKey', '*.privateKey', 'passphrase', '*.passphrase',
  'headers.authorization', '*.headers.authorization', 'env.SLACK_BOT_TOKEN', 'env.SLACK_APP_TOKEN', 'env.SLACK_SIGNING_SECRET',
];

/** The process logger: JSON to stderr (stdout stays clean for `status --json` and the console). */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'vipbot' }, redact: { paths: REDACT, censor: '[redacted]' } }, pino.destination(2));
}

/** A logger that drops everything (tests, CLI one-shots). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

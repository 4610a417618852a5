import { createHmac } from 'node:crypto';

/** Headers Slack sends with a request body: v0 HMAC-SHA256 of `v0:<timestamp>:<body>`. */
export function signSlackRequest(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}

/** A slash command body exactly as Slack posts it (form-encoded). */
export function slashCommandBody(fields: { text: string; userId: string; channelId: string; responseUrl?: string; command?: string }): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0LOCAL',
    team_domain: 'local',
    channel_id: fields.channelId,
    channel_name: 'vipops',
    user_id: fields.userId,
    user_name: fields.userId.toLowerCase(),
    command: fields.command ?? '/vip',
    text: fields.text,
    api_app_id: 'A0VIPBOT',
    is_enterprise_install: 'false',
    response_url: fields.responseUrl ?? 'http://127.0.0.1:9/response',
    trigger_id: `${Date.now()}.trigger`,
  }).toString();
}

export interface SignedPostOptions {
  secret: string;
  contentType?: string;
  timestamp?: number;
  headers?: Record<string, string>;
}

/** POSTs `body` to `url` signed as Slack would; returns the status, the response text and how long it took. */
export async function postSigned(
  url: string,
  body: string,
  options: SignedPostOptions,
): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      ...signSlackRequest(body, options.secret, options.timestamp),
      ...options.headers,
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}

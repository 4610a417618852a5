let triggers = 0;

/**
 * Every request Slack sends carries its own trigger_id; two identical bodies signed in the same second
 * are one request sent twice, which the bot refuses as a replay (SPEC §8).
 */
export function uniqueTrigger(body: string): string {
  const params = new URLSearchParams(body);
  params.set('trigger_id', `${Date.now()}.${process.pid}.${++triggers}.trigger`);
  return params.toString();
}

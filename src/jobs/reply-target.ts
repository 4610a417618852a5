import { z } from 'zod';

/** Where a job posts its result (set by the dispatcher from the slash command). */
export const ReplyTarget = z.object({
  channel: z.string().regex(/^[CGD][A-Z0-9]+$/),
  userId: z.string().regex(/^[UW][A-Z0-9]+$/),
  responseUrl: z.url().optional(),
  threadTs: z.string().optional(),
});
export type ReplyTarget = z.infer<typeof ReplyTarget>;

export const TargetData = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('cluster'), name: z.string() }),
  z.object({ kind: z.literal('node'), name: z.string(), cluster: z.string() }),
]);

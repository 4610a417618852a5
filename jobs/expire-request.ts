import { z } from 'zod';
import type { JobDefinition } from '../src/jobs/job.ts';

export const ExpireRequestData = z.object({ requestId: z.string().regex(/^[a-z0-9]{6}$/) });

/** Fires at the request's expiry: a still-pending request becomes expired (nothing else changes). */
export const expireRequestJob: JobDefinition<z.infer<typeof ExpireRequestData>> = {
  name: 'expire-request',
  data: ExpireRequestData,
  async process(data, deps) {
    return { expired: await deps.flow.expire(data.requestId) };
  },
};

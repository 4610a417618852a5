import { z } from 'zod';
import type { JobDefinition } from '../src/jobs/job.ts';
import { requireMemoryDeps } from '../src/memory/memory-runtime.ts';

/** Empty from the scheduler; a list of nodes samples only those (tests, manual runs). */
export const MemorySampleData = z.object({ nodes: z.array(z.string().min(1)).min(1).optional() }).strict();
export type MemorySampleData = z.infer<typeof MemorySampleData>;

/**
 * One sampling round (the `memory-sample` scheduler, every `memory.sampleEvery`): every node's unit
 * memory, cgroup anon/page cache and keepalived processes, stored in Redis. A node that cannot be
 * reached is logged and stores nothing — a gap in its history, not a zero — and never costs the
 * others their samples. Not retried: the next round is the retry.
 */
export const memorySampleJob: JobDefinition<MemorySampleData> = {
  name: 'memory-sample',
  data: MemorySampleData,
  async process(data, deps, ctx) {
    const memory = requireMemoryDeps(deps);
    const round = await memory.sampler.sample({ ...(data.nodes ? { nodes: data.nodes } : {}), signal: ctx.signal });
    const stored = await memory.store.append(round.samples);
    for (const f of round.failures) ctx.log.warn({ node: f.node, error: f.error }, 'memory sample missed (a gap in this node\'s history)');
    for (const p of round.partial) ctx.log.debug({ node: p.node, problems: p.problems }, 'memory sample without some parts');
    return { sampled: round.samples.map((s) => s.node), missed: round.failures.map((f) => f.node), stored: stored.stored };
  },
};
